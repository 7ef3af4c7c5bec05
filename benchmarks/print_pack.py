"""How much memory a print pack takes to build: the old way and the worker's way.

    .venv/bin/python benchmarks/print_pack.py [N]      # N letters, default 400

Renders N one-page parent letters the app's way into a letter store in a
temporary folder, then builds their print pack in a fresh process each way and
reads its peak resident memory (ru_maxrss) above what the imports took:
- old: what the web request did, every PDF read from the store and opened from
  memory, the pack saved to memory (campaign/letters/outputs.py before packs.py);
- worker: outputs.write_pack as packs.build calls it, 200 letters read at a
  time, each letter copied into the pack file and closed (joiner.py).
Prints JSON: {"letters", "pack_mb", "old_peak_mb", "worker_peak_mb", "old_s", "worker_s",
"baseline_mb"} (the peaks are above the baseline: the process once its imports and
the letters' merge data are loaded).
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pikepdf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for benchmarks.letters

from benchmarks.letters import merge  # noqa: E402  (the same letters as that benchmark)
from campaign.letters.outputs import write_pack  # noqa: E402
from campaign.letters.stamp import render_stamped  # noqa: E402
from campaign.letters.store import FolderStore  # noqa: E402

BATCH = 200


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def old_way(letters: list, store: FolderStore) -> bytes:
    with contextlib.ExitStack() as sources, pikepdf.new() as pack:
        for letter in letters:
            source = sources.enter_context(pikepdf.open(io.BytesIO(store.get(letter.sha256))))
            pack.pages.extend(source.pages)
            if len(source.pages) % 2:
                box = source.pages[-1].mediabox
                blank = pack.add_blank_page(page_size=(float(box[2]), float(box[3])))
                del blank.obj.Contents
        out = io.BytesIO()
        pack.save(out)
    return out.getvalue()


def measure(way: str, folder: Path) -> dict:
    letters = pickle.loads((folder / "letters.pickle").read_bytes())
    store = FolderStore(folder / "store")
    before, started = _rss_mb(), time.perf_counter()
    if way == "old":
        size = len(old_way(letters, store))
    else:
        batches = [letters[i : i + BATCH] for i in range(0, len(letters), BATCH)]
        out = folder / way
        out.mkdir()
        size = write_pack(batches, store, out).pdf.stat().st_size
    seconds = round(time.perf_counter() - started, 2)
    peak = round(_rss_mb() - before, 1)
    return {"peak_mb": peak, "before_mb": round(before, 1), "seconds": seconds, "bytes": size}


def main(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = FolderStore(folder / "store")
        letters = []
        for start in range(0, n, 250):
            merges = [merge(i) for i in range(start, min(n, start + 250))]
            for m, letter in zip(merges, render_stamped("parents.html", merges), strict=True):
                letters.append(SimpleNamespace(
                    sha256=store.put(letter.pdf), pages=letter.pages, merge=m,
                    recipient_code=str(100000 + len(letters)), recipient_name=m["school"]["name"],
                ))  # fmt: skip
        for letter in letters:
            letter.merge = {**letter.merge, "statement_html": str(letter.merge["statement_html"])}
            letter.merge.setdefault("reference", "ABCD-EFGH")
        (folder / "letters.pickle").write_bytes(pickle.dumps(letters))
        found = {}
        for way in ("old", "worker"):
            run = subprocess.run(
                [sys.executable, __file__, "--measure", way, tmp],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            found[way] = json.loads(run.stdout)
    return {
        "letters": n,
        "pack_mb": round(found["worker"]["bytes"] / 2**20, 1),
        "old_peak_mb": found["old"]["peak_mb"],
        "worker_peak_mb": found["worker"]["peak_mb"],
        "old_s": found["old"]["seconds"],
        "worker_s": found["worker"]["seconds"],
        "baseline_mb": found["worker"]["before_mb"],
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure(sys.argv[2], Path(sys.argv[3]))))
    else:
        print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)))

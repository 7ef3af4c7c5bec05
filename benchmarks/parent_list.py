"""How long the largest parents' list allowed takes to read and check.

    .venv/bin/python benchmarks/parent_list.py

Reads benchmarks/make_parent_list.py's worst case (10,000 distinct long addresses,
20,000 rows, just under 5 MB) with read_parent_list, side by side with only
splitting the same file into CSV rows, so the ratio says what the checks cost.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for benchmarks.*

from benchmarks.make_parent_list import largest_parent_list  # noqa: E402
from campaign.delivery.parents import read_parent_list  # noqa: E402


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    content = largest_parent_list()
    addresses = read_parent_list(content)
    split = best_of(3, lambda: list(csv.reader(io.StringIO(content.decode()))))
    checked = best_of(3, lambda: read_parent_list(content))
    rows = content.count(b"\n") - 1
    megabytes = len(content) / 1024 / 1024
    print(f"file: {megabytes:.2f} MB, {rows:,} rows, {len(addresses):,} addresses")
    print(f"csv split only: {split:.3f} s")
    print(f"read_parent_list: {checked:.3f} s ({checked / split:.1f}x the split)")


if __name__ == "__main__":
    main()

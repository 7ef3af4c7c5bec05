"""How fast one-page parent letters render: naive and batched, side by side.

    .venv/bin/python benchmarks/letters.py [N]      # N letters, default 400

Naive: one WeasyPrint document per letter, with its own stylesheet and fonts.
Fast: the app's way for parent letters (campaign.letters.stamp.render_stamped):
each distinct body laid out once, every school's fields stamped on it, batches
of 250 spread over every core. Then the same again with the mail-house check
(campaign.letters.checks) on every letter, as a render job does, and how many
of the fast letters pass it.
Prints JSON: {"letters", "naive_per_s", "fast_per_s", "speedup", "checked_per_s",
"speedup_checked", "passing", "cores", "minutes_for_20650"}.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from markupsafe import Markup
from weasyprint import CSS, HTML

from campaign.letters.checks import check_pdf
from campaign.letters.render import BASE_URL, LETTERS_DIR, LettersFetcher, render_html
from campaign.letters.stamp import render_stamped

BATCH = 250
STATEMENT = Markup(
    "<p>We are the headteachers of the state-funded secondary schools of Essex, "
    "Southend-on-Sea and Thurrock. The funding settlement for 2026/27 leaves our schools "
    "unable to do what the country asks of them.</p><p>We ask for a settlement that funds "
    "the pay awards the government itself recommends.</p>"
)


def merge(i: int) -> dict:
    return {
        "title": "Fair funding for our schools",
        "campaign_title": "Fair funding for our schools",
        "association": {
            "name": "Essex Secondary Heads' Association",
            "address_lines": ["Chelmsford Business Centre", "Market Road", "Chelmsford", "CM1 1XA"],
            "email": "lead@demo.example",
        },
        "address_lines": [
            f"Head {i}, Headteacher",
            f"School {i}",
            "1 High Street",
            "Town",
            "CM1 1XA",
        ],
        "date": "23 November 2026",
        "footer": "Reference ABCD-EFGH-IJKL · check it at https://example.org/public",
        "school": {"name": f"School {i}", "local_authority": "Essex"},
        "signed_by": {"name": f"Head {i}", "role": "Headteacher"},
        "signatory_count": 12,
        "statement_html": STATEMENT,
        "cosignatories": [
            {"local_authority": "Essex", "schools": [f"School {n}" for n in range(12)]}
        ],
        "cosignatories_limited": False,
        "public_url": "https://example.org/public",
    }


def naive(html: str) -> bytes:
    stylesheet = CSS(filename=str(LETTERS_DIR / "print.css"), url_fetcher=LettersFetcher())
    return HTML(string=html, base_url=BASE_URL, url_fetcher=LettersFetcher()).write_pdf(
        stylesheets=[stylesheet]
    )


def fast_chunk(merges: list[dict]) -> int:
    return sum(letter.pages for letter in render_stamped("parents.html", merges))


def checked_chunk(merges: list[dict]) -> tuple[int, int]:
    """(pages, letters that pass the mail-house check)."""
    letters = render_stamped("parents.html", merges)
    return sum(letter.pages for letter in letters), sum(not check_pdf(x.pdf) for x in letters)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    cores = os.cpu_count() or 1
    htmls = [render_html("parents.html", merge(i)) for i in range(n)]

    sample = htmls[: max(20, n // 10)]  # the naive way on a sample: it is the slow one
    start = time.perf_counter()
    for html in sample:
        naive(html)
    naive_per_s = len(sample) / (time.perf_counter() - start)

    start = time.perf_counter()
    merges = [merge(i) for i in range(n)]
    chunks = [merges[i : i + BATCH] for i in range(0, n, BATCH)]
    with ProcessPoolExecutor(max_workers=cores) as pool:
        pages = sum(pool.map(fast_chunk, chunks))
    fast_per_s = n / (time.perf_counter() - start)
    assert pages == n, f"expected one page per letter, got {pages} pages"

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=cores) as pool:
        results = list(pool.map(checked_chunk, chunks))
    checked_per_s = n / (time.perf_counter() - start)
    passing = sum(ok for _, ok in results)

    print(
        json.dumps(
            {
                "letters": n,
                "naive_per_s": round(naive_per_s, 1),
                "fast_per_s": round(fast_per_s, 1),
                "speedup": round(fast_per_s / naive_per_s, 2),
                "checked_per_s": round(checked_per_s, 1),
                "speedup_checked": round(checked_per_s / naive_per_s, 2),
                "passing": f"{passing}/{n}",
                "cores": cores,
                "minutes_for_20650": round(20650 / checked_per_s / 60, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

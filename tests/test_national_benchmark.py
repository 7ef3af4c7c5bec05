"""benchmarks/national.py at 500 schools, on PostgreSQL and Redis as production runs.

It runs the real processes (gunicorn, two `campaign worker`s) in a scratch schema of
TEST_DATABASE_URL and on TEST_REDIS_URL, and this checks what it reports: every stage
ran, no request failed, every head's signature was recorded once, every letter was
rendered and every email accepted exactly once. Timings are printed, not asserted.
About two and a half minutes on the shared 2-core machine (rendering 1,000 letters
is half of it). Then its kill drill at 60 schools (`--kill-workers`): rendering workers
and senders killed three times each, every letter still written once and every email
accepted once; about three minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHOOLS = 500
STAGES = [
    "setup",
    "imports",
    "invitations",
    "signing",
    "signatures",
    "render",
    "send",
    "lead_pages",
    "sizes",
    "memory",
    "statistics",
    "summary",
]

pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL"))
    and os.environ.get("CI") != "true",
    reason="TEST_DATABASE_URL and TEST_REDIS_URL are not set: no PostgreSQL and Redis to run on",
)


def national(schools: int, *extra: str) -> dict[str, dict]:
    """Run benchmarks/national.py; its stages' JSON lines by stage."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "national.py"),
            "--schools",
            str(schools),
            "--database-url",
            os.environ["TEST_DATABASE_URL"],
            "--redis-url",
            os.environ["TEST_REDIS_URL"],
            "--lead-fetches",
            "1",
            "--timeout",
            "300",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)
    return {line["stage"]: line for line in map(json.loads, done.stdout.splitlines())}


@pytest.fixture(scope="module")
def report() -> dict[str, dict]:
    return national(SCHOOLS)


def test_every_stage_reports(report):
    assert list(report) == STAGES
    assert report["summary"]["schools"] == SCHOOLS
    assert report["summary"]["backend"] == "postgresql"


def test_the_imports_take_every_row(report):
    for kind in ("schools", "members"):
        assert report["imports"][kind]["rows"] == SCHOOLS
        assert report["imports"][kind]["rejected"] == 0


def test_every_head_is_invited_twice_and_signs_once(report):
    invitations = report["invitations"]
    heads = invitations["heads"]
    assert heads > 0.9 * SCHOOLS  # a few heads lead two schools
    for round_ in ("consultation", "signoff"):
        assert invitations[round_]["invited"] == invitations[round_]["emailed"] == heads
    signing = report["signing"]
    assert signing["errors"] == 0, signing["error_kinds"]
    assert signing["heads_done"] == heads
    assert signing["schools_signed"] == SCHOOLS
    assert report["signatures"] == {
        "stage": "signatures",
        "schools": SCHOOLS,
        "recorded": SCHOOLS,
        "lost": 0,
        "twice": 0,
    }


def test_every_letter_renders_and_every_email_goes_once(report):
    render = report["render"]
    assert render["parents"]["expected"] == SCHOOLS
    for audience in ("parents", "mps"):
        assert render[audience]["state"] == "done", render[audience]["error"]
        assert render[audience]["rendered"] == render[audience]["expected"] > 0
    send = report["send"]
    assert send["emails"] == render["parents"]["expected"] + render["mps"]["expected"]
    assert send["states"] == {"sent": send["emails"]}
    assert send["duplicates"] == 0
    assert send["missing"] == 0


def test_every_lead_page_answers(report):
    pages = report["lead_pages"]
    assert pages["errors"] == 0, pages["error_kinds"]
    assert all(page["status"] == 200 and page["queries"] > 0 for page in pages["pages"].values())


def test_memory_and_sizes_are_measured(report):
    peaks = report["memory"]["peak_mb"]
    assert {"gunicorn", "worker 1", "worker 2"} <= set(peaks)
    sizes = report["sizes"]
    assert sizes["database_bytes"] > 0
    assert sizes["letters"] == report["send"]["emails"]


def test_the_kill_drill_renders_and_sends_each_once_through_killed_workers():
    # Rendering workers, then the send's, are SIGKILLed three times each mid-chunk and
    # mid-claim (benchmarks/drill.py); new ones take the chunks and claims left behind.
    drill = national(60, "--kill-workers")
    report = drill["kill_drill"]
    assert report["kills"]["render"] >= 3 and report["kills"]["send"] >= 3
    assert report["kills_survived"] == report["kills"]
    assert report["letters_once"] and report["emails_once"]
    assert report["render_processes_left_running"] == 0
    send = drill["send"]
    assert send["states"] == {"sent": send["emails"]}
    assert send["duplicates"] == send["missing"] == 0
    assert drill["summary"]["kills_survived"] == report["kills_survived"]

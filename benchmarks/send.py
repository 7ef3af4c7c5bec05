"""How fast a national campaign's letters go out through SendGrid (a local fake).

    .venv/bin/python benchmarks/send.py [SCHOOLS] [--workers N] [--latency-ms 50]
                                        [--database-url URL]

Makes N schools (default 20,000) over the 650 constituencies, each with a head
who signed, and their letters: one to parents per school and one to each MP.
Builds both outboxes, then times send_ready() against tests.fakes' SendGrid
answering every request after the given latency (it runs in this process, so
its threads share the GIL with the sender's). SQLite in a temporary file, or
PostgreSQL in a scratch schema (dropped afterwards) with --database-url.
Prints JSON: messages, api_calls, seconds, messages_per_s, duplicates, not_sent,
rss_mb (the process's resident memory before the send and its peak while sending;
the fake's threads included), ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.fakes
os.environ.setdefault("CAMPAIGN_INSTANCE", tempfile.mkdtemp(prefix="campaign-bench-"))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks.scratch import scratch_schema  # noqa: E402
from campaign import create_app  # noqa: E402
from campaign.delivery.models import Channel, Message, MessageState  # noqa: E402
from campaign.delivery.outbox import build_outbox  # noqa: E402
from campaign.delivery.sending import send_ready  # noqa: E402
from campaign.directory.models import (  # noqa: E402
    Association,
    Constituency,
    Headship,
    Mp,
    School,
    User,
)
from campaign.drafting import text  # noqa: E402
from campaign.drafting.models import Campaign, CampaignState, StatementVersion  # noqa: E402
from campaign.extensions import db  # noqa: E402
from campaign.letters.models import Audience, Letter  # noqa: E402
from campaign.letters.render import render_batch  # noqa: E402
from campaign.letters.services import TEMPLATES, build_merges, letter_html  # noqa: E402
from campaign.letters.store import letter_store  # noqa: E402
from campaign.signoff.models import Decision, Signature  # noqa: E402
from tests import fakes  # noqa: E402

SEATS = 650
AUTHORITIES = 150
STATEMENT = (
    "We are the headteachers of the state-funded schools of England. The funding "
    "settlement for 2026/27 leaves our schools unable to do what the country asks of them."
    "\n\nWe ask for a settlement that funds the pay awards the government itself recommends."
)


def bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(model), rows[start : start + 5000])


def ids(column_key, column_id) -> dict:
    return dict(db.session.execute(select(column_key, column_id)).all())


def build_campaign(n: int) -> Campaign:
    """A closed campaign that every one of n schools signed, with its letters."""
    association = Association(
        slug="national", name="National Heads", email="office@national.example",
        address="1 Whitehall Place\nLondon\nSW1A 2HE", cosignatory_limit=150,
    )  # fmt: skip
    db.session.add(association)
    db.session.flush()
    bulk(Constituency, [
        {"ons_code": f"E14{s:06d}", "name": f"Seat {s}", "region": "Region", "country": "England"}
        for s in range(SEATS)
    ])  # fmt: skip
    seats = ids(Constituency.ons_code, Constituency.id)
    bulk(Mp, [
        {"constituency_id": seats[f"E14{s:06d}"], "first_name": "Member", "last_name": str(s),
         "party": "Independent", "email": f"mp{s}@parliament.example"}
        for s in range(SEATS)
    ])  # fmt: skip
    bulk(School, [
        {"association_id": association.id, "urn": 100000 + i, "name": f"School {i}",
         "local_authority": f"LA {i % AUTHORITIES}",
         "street": f"{i} High Street", "town": "Town", "postcode": "AB1 2CD",
         "pupils": 300 + i % 1200, "constituency_code": f"E14{i % SEATS:06d}",
         "constituency_id": seats[f"E14{i % SEATS:06d}"]}
        for i in range(n)
    ])  # fmt: skip
    bulk(User, [{"email": f"head{i}@school.example", "name": f"Head {i}"} for i in range(n)])
    schools = ids(School.urn, School.id)
    users = ids(User.email, User.id)
    heads = [(schools[100000 + i], users[f"head{i}@school.example"], i) for i in range(n)]
    bulk(Headship, [
        {"association_id": association.id, "user_id": user, "school_id": school,
         "job_title": "Headteacher"}
        for school, user, _ in heads
    ])  # fmt: skip

    campaign = Campaign(
        association=association, slug="fair-funding", title="Fair funding for our schools",
        state=CampaignState.CLOSED,
    )  # fmt: skip
    body = text.normalise(STATEMENT)
    version = StatementVersion(campaign=campaign, number=1, body=body, sha256=text.sha256(body))
    campaign.frozen_version = version
    db.session.add_all([campaign, version])
    db.session.flush()
    bulk(Signature, [
        {"campaign_id": campaign.id, "school_id": school, "user_id": user,
         "decision": Decision.SIGNED, "name": f"Head {i}", "role": "Headteacher",
         "version_sha256": version.sha256}
        for school, user, i in heads
    ])  # fmt: skip

    for audience in Audience:
        merges = build_merges(campaign, audience)
        # Every letter shares one real PDF of its kind: rendering 20,650 of them is
        # what benchmarks/letters.py measures; here only the sending is timed.
        sample = render_batch([letter_html(TEMPLATES[audience], next(iter(merges.values())))])[0]
        digest = letter_store().put(sample.pdf)
        bulk(Letter, [
            {"campaign_id": campaign.id, "audience": audience, "recipient": recipient,
             "recipient_name": merge["recipient_name"], "merge": merge,
             "merge_sha256": hashlib.sha256(json.dumps(merge, sort_keys=True).encode()).hexdigest(),
             "pages": sample.pages, "sha256": digest,
             "rendered": datetime.now(UTC)}
            for recipient, merge in merges.items()
        ])  # fmt: skip
    db.session.commit()
    return campaign


def reset_peak_rss() -> float:
    """Start this process's peak resident memory (VmHWM) afresh; its RSS now, in MB."""
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS
    return _status_mb("VmRSS")


def peak_rss() -> float:
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no {field} in /proc/self/status")


def bench(url: str, backend: str, args: argparse.Namespace) -> dict:
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "BASE_URL": "http://localhost",
        "SEND_WORKERS": args.workers, "LETTER_STORE": tempfile.mkdtemp(prefix="bench-letters-"),
    })  # fmt: skip
    with app.app_context(), fakes.serve(fakes.sendgrid) as (api, recorder):
        upgrade()
        start = time.perf_counter()
        campaign = build_campaign(args.schools)
        print(f"setup: {time.perf_counter() - start:.1f} s", file=sys.stderr)
        app.config.update(SENDGRID_API_KEY=fakes.SENDGRID_KEY, SENDGRID_API_HOST=api)
        recorder.latency = args.latency_ms / 1000
        for audience in (Audience.MPS, Audience.PARENTS):
            build_outbox(campaign, audience)
        db.session.commit()

        recorder.requests = fakes.Forgetful()
        campaign_id = campaign.id
        db.session.expunge_all()  # the setup's rows, so the figure is the sender's own
        before = reset_peak_rss()
        start = time.perf_counter()
        summary = send_ready(campaign_id, None)
        seconds = time.perf_counter() - start
        peak = peak_rss()

        by_email = select(Message.id).where(Message.channel == Channel.EMAIL)
        emails = db.session.scalars(by_email).all()
        sent = db.session.scalar(select(func.count()).where(Message.state == MessageState.SENT))
        assert sent == summary.sent, (sent, summary.as_dict())
        db.session.remove()
        db.engine.dispose()
    return {
        "messages": summary.sent,
        "api_calls": summary.api_calls,
        "seconds": round(seconds, 2),
        "messages_per_s": round(summary.sent / seconds, 1),
        "duplicates": sum(count - 1 for count in recorder.accepted.values()),
        "not_sent": sum(str(m) not in recorder.accepted for m in emails),
        "rss_mb": {"before": before, "peak_sending": peak},
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "cores": os.cpu_count(),
        "backend": backend,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schools", nargs="?", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--database-url", help="a PostgreSQL URL: runs in a scratch schema")
    args = parser.parse_args()

    if not args.database_url:
        with tempfile.TemporaryDirectory(prefix="campaign-bench-db-") as tmp:  # ~600 MB at 20,000
            print(json.dumps(bench(f"sqlite:///{tmp}/send.sqlite3", "sqlite", args)))
        return
    with scratch_schema(args.database_url) as url:
        result = bench(url, "postgresql", args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

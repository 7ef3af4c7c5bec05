"""The parts of benchmarks/national.py that run inside the app: the lead's steps,
the counts checked afterwards, and SQL counted per page.

Imported by national.py only once the environment names the database, the queue
and the fake SendGrid, because Huey picks its storage when campaign is imported.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select

from campaign import create_app
from campaign.auth.services import issue_sign_in_link
from campaign.consultation import steps as consultation_steps
from campaign.delivery import steps as delivery_steps
from campaign.delivery.models import Channel, Message, MessageState
from campaign.directory.models import Headship, Mp, School, User
from campaign.directory.services import association_by_slug, dao_head_ids
from campaign.drafting.models import Campaign
from campaign.drafting.services import create_campaign
from campaign.extensions import db
from campaign.letters import steps as letters_steps
from campaign.letters import tasks as letters_tasks
from campaign.letters.models import Audience, Letter
from campaign.letters.services import build_merges
from campaign.letters.store import letter_store
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import Decision, Signature
from campaign.signoff.notices import invitation_path

SLUG = "national"
# Seconds without a message moving, no email waiting, before those still `sending` are
# taken to be a dead sender's (a live one moves its claim on within a few seconds).
IN_DOUBT_AFTER = 5.0
LEAD = "lead@national.example"
STATEMENT = (
    "We are the headteachers of the state-funded schools of England. The funding "
    "settlement for 2026/27 leaves our schools unable to do what the country asks of them."
    "\n\nWe ask for a settlement that funds the pay awards the government itself recommends."
)


def make_app(**overrides) -> Flask:
    """The app as configured by the environment (what gunicorn and the workers run)."""
    return create_app(overrides)


def give_mps_addresses() -> None:
    """An email address for every MP, so their letters go by email: the packaged
    results have none (`campaign mps refresh` fetches them from Parliament)."""
    app = make_app()
    with app.app_context():
        db.session.execute(
            sa.update(Mp).values(email="mp" + sa.cast(Mp.id, sa.String) + "@parliament.example")
        )
        db.session.commit()
        db.engine.dispose()


def lead() -> User:
    return db.session.scalar(select(User).where(User.email == LEAD))


def new_campaign() -> Campaign:
    """A draft with its statement, deadlines four and eight weeks out. Commits."""
    association = association_by_slug(SLUG)
    now = datetime.now(UTC)
    campaign = create_campaign(
        association,
        "Fair funding for our schools",
        summary="A joint letter on the 2026/27 funding settlement.",
        consultation_deadline=now + timedelta(weeks=4),
        signoff_deadline=now + timedelta(weeks=8),
        body=STATEMENT,
        author=lead(),
    )
    db.session.commit()
    return campaign


def heads() -> int:
    return len(dao_head_ids(association_by_slug(SLUG).id))


def open_consultation(campaign: Campaign) -> int:
    return len(consultation_steps.open_consultation(campaign))


def open_signoff(campaign: Campaign) -> int:
    return len(signoff_steps.freeze(campaign, lead()))


def close_signoff(campaign: Campaign) -> None:
    signoff_steps.close(campaign, lead())


def signatures() -> dict:
    """Each school with a head: is its signature recorded, and how often."""
    association = association_by_slug(SLUG)
    schools = set(
        db.session.scalars(
            select(Headship.school_id).where(Headship.association_id == association.id)
        )
    )
    counts = dict(
        db.session.execute(
            select(Signature.school_id, func.count()).group_by(Signature.school_id)
        ).all()
    )
    return {
        "schools": len(schools),
        "recorded": sum(1 for s in schools if counts.get(s)),
        "lost": sum(1 for s in schools if not counts.get(s)),
        "twice": sum(1 for c in counts.values() if c > 1),
    }


def sign_the_rest(campaign: Campaign) -> dict:
    """Every school the surge left unsigned (`--surge-heads`), signed by its head
    through the step the sign page calls, one after another in this process."""
    signed = select(Signature.school_id).where(Signature.campaign_id == campaign.id)
    rows = db.session.execute(
        select(Headship.school_id, Headship.user_id)
        .where(Headship.association_id == campaign.association_id)
        .where(Headship.school_id.not_in(signed))
        .order_by(Headship.school_id)
    ).all()
    started, done = time.perf_counter(), set()
    sha256 = campaign.frozen_version.sha256
    for school_id, user_id in rows:
        if school_id in done:  # a co-head's school
            continue
        user = db.session.get(User, user_id)
        signoff_steps.sign(campaign, db.session.get(School, school_id), user,
                           decision=Decision.SIGNED, name=user.name, role="Headteacher",
                           shown_sha256=sha256)  # fmt: skip
        done.add(school_id)
    seconds = time.perf_counter() - started
    return {"schools": len(done), "seconds": round(seconds, 2),
            "per_s": round(len(done) / seconds, 1) if seconds else None}  # fmt: skip


def render(
    campaign: Campaign, timeout: float, on_progress: Callable[[float], None] | None = None
) -> dict:
    """Queue both audiences through the letters step; wait on their progress (told to
    `on_progress` as the fraction done, each time it is read)."""
    expected = {a: len(build_merges(campaign, a)) for a in Audience}
    db.session.rollback()
    started = time.perf_counter()
    for audience in Audience:
        letters_steps.render(campaign, audience)
    finished: dict[Audience, float] = {}
    progress: dict[Audience, dict] = {}
    deadline = started + timeout
    while len(finished) < len(Audience) and time.perf_counter() < deadline:
        for audience in Audience:
            state = letters_tasks.read_progress(campaign.id, audience.value) or {}
            progress[audience] = state
            if audience not in finished and state.get("state") in ("done", "failed"):
                finished[audience] = time.perf_counter() - started
        if on_progress:
            done = sum(min(p.get("done", 0), expected[a]) for a, p in progress.items())
            on_progress(done / max(1, sum(expected.values())))
        time.sleep(0.5)  # polling the progress the page shows, not synchronising
    db.session.rollback()
    result = {}
    for audience in Audience:
        rendered, recipients = db.session.execute(
            select(func.count(Letter.id), func.count(Letter.recipient.distinct())).where(
                Letter.campaign_id == campaign.id, Letter.audience == audience
            )
        ).one()
        state = progress.get(audience, {})
        seconds = state.get("seconds") or finished.get(audience)
        result[audience.value] = {
            "expected": expected[audience],
            "rendered": rendered,
            "twice": rendered - recipients,
            "state": state.get("state", "none"),
            "error": state.get("error"),
            "task_seconds": round(seconds, 2) if seconds else None,
            "wall_seconds": round(finished[audience], 2) if audience in finished else None,
            "letters_per_s": round(rendered / seconds, 1) if seconds else None,
        }
    return result


def letters_expected(campaign: Campaign) -> dict[str, int]:
    return {a.value: len(build_merges(campaign, a)) for a in Audience}


def _waiting(campaign: Campaign) -> tuple[int, int]:
    """Emails still `created` and still `sending`."""
    counts = dict(
        db.session.execute(
            select(Message.state, func.count())
            .where(Message.campaign_id == campaign.id, Message.channel == Channel.EMAIL)
            .where(Message.state.in_((MessageState.CREATED, MessageState.SENDING)))
            .group_by(Message.state)
        ).all()
    )
    db.session.rollback()
    return counts.get(MessageState.CREATED, 0), counts.get(MessageState.SENDING, 0)


def send(
    campaign: Campaign,
    accepted: Callable[[], set[str]],
    timeout: float,
    on_progress: Callable[[float], None] | None = None,
    events_settled: Callable[[], bool] | None = None,
) -> dict:
    """Both audiences through the delivery step; wait until no email is left to send.

    With `events_settled` (the fake SendGrid has posted every `processed` event), emails
    left in `sending` once nothing has moved for a while are a killed sender's, in
    doubt: sent again as the lead would, with the step (SEND_IN_DOUBT_MINUTES 0)."""
    audiences = (Audience.MPS, Audience.PARENTS)
    started = time.perf_counter()
    for audience in audiences:
        delivery_steps.send(campaign, audience)
    emails = select(Message.id).where(
        Message.campaign_id == campaign.id, Message.channel == Channel.EMAIL
    )
    total = db.session.scalar(select(func.count()).select_from(emails.subquery()))
    deadline = started + timeout
    last, still_since, in_doubt = None, time.perf_counter(), 0
    while time.perf_counter() < deadline:
        created, sending = _waiting(campaign)
        if on_progress:
            on_progress(1 - (created + sending) / max(1, total))
        if not created + sending:
            break
        if (created, sending) != last:
            last, still_since = (created, sending), time.perf_counter()
        elif (
            events_settled
            and not created
            and time.perf_counter() - still_since > IN_DOUBT_AFTER
            and events_settled()
        ):
            in_doubt += sum(delivery_steps.send_in_doubt_again(campaign, a) for a in audiences)
        time.sleep(0.5)  # polling what the progress page shows
    seconds = time.perf_counter() - started
    ids = [str(i) for i in db.session.scalars(emails)]
    states = dict(
        db.session.execute(
            select(Message.state, func.count())
            .where(Message.campaign_id == campaign.id)
            .group_by(Message.state)
        ).all()
    )
    db.session.rollback()
    got = accepted()
    return {
        "emails": len(ids),
        "states": {state.value: count for state, count in states.items()},
        "seconds": round(seconds, 2),
        "messages_per_s": round(len(ids) / seconds, 1),
        "missing": sum(1 for i in ids if i not in got),
        "in_doubt_sent_again": in_doubt,
        # Recorded by no sender (none has its provider's id): a `processed` event alone
        # marked it sent, as when its sender was killed after SendGrid took it.
        "settled_by_events": db.session.scalar(
            select(func.count()).select_from(
                emails.where(
                    Message.state == MessageState.SENT, Message.provider_id == ""
                ).subquery()
            )
        ),
    }


def lead_link() -> str:
    """A sign-in link for the lead, minted through the service (the benchmark uses it over
    HTTP)."""
    link = issue_sign_in_link(lead())
    db.session.commit()
    return link


def lead_pages(campaign: Campaign) -> list[str]:
    """Every page the lead reads, as paths."""
    base = f"/a/{SLUG}"
    c = f"{base}/campaigns/{campaign.slug}"
    return [
        f"{base}/",
        f"{base}/campaigns/",
        f"{c}/",
        f"{c}/statement",
        f"{c}/versions",
        f"{c}/consultation",
        f"{c}/signoff",
        f"{c}/audit",
        f"{c}/letters/",
        f"{c}/sending/",
        f"{c}/sending/mps",
        f"{c}/sending/parents",
        f"{c}/sending/report",
        f"{base}/schools",
        f"{base}/mps",
        f"{base}/needs-attention",
        f"{base}/imports",
        f"{base}/settings",
    ]


@contextmanager
def counting_queries(app: Flask) -> Iterator[list[int]]:
    """Count the SQL statements the app's engine runs while inside."""
    counter = [0]

    def count(*_args) -> None:
        counter[0] += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def queries_per_page(paths: list[str]) -> dict[str, dict]:
    """Each page fetched once in this process as the signed-in lead, its SQL counted."""
    app = make_app(SESSION_COOKIE_SECURE=False)
    with app.app_context():
        token = lead_link().rsplit("/", 1)[1]
    client = app.test_client()
    page = client.get(f"/sign-in/{token}")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    client.post(f"/sign-in/{token}", data={"csrf_token": csrf.group(1) if csrf else ""})
    result = {}
    with counting_queries(app) as counter:
        for path in paths:
            before = counter[0]
            response = client.get(path)
            result[path] = {"status": response.status_code, "queries": counter[0] - before}
    with app.app_context():
        db.engine.dispose()
    return result


def sizes(url: str) -> dict:
    """The database's size (its schema's relations on PostgreSQL) and the letter store's."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        database = db.session.scalar(
            sa.text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
        )
        tables = dict(
            db.session.execute(
                sa.text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
                    "ORDER BY 2 DESC LIMIT 5"
                )
            ).all()
        )
    else:
        path = Path(sa.make_url(url).database)  # with its -wal and -shm files
        database = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        tables = {}
    db.session.rollback()
    return {
        "database_bytes": int(database),
        "largest_tables_bytes": {k: int(v) for k, v in tables.items()},
        "letter_store_bytes": letter_store().size(),
        "letters": db.session.scalar(select(func.count(Letter.id))),
    }


class CountingBrowser:
    """A head in this process, through the test client: each request's SQL counted."""

    def __init__(self, app: Flask, counter: list[int]):
        self.client = app.test_client()
        self.counter = counter
        self.queries: dict[str, list[int]] = {}
        self.cookies: dict = {}
        self.errors: dict = {}

    def request(self, kind: str, method: str, path: str, form: dict | None = None):
        before = self.counter[0]
        response = self.client.open(path, method=method, data=form)
        self.queries.setdefault(kind, []).append(self.counter[0] - before)
        location = response.headers.get("Location", "")
        return response.status_code, response.get_data(as_text=True), location

    def expect(self, kind: str, status: int, got) -> bool:
        if got[0] != status:
            self.errors[kind] = got[0]
        return got[0] == status


def queries_per_request(journey: Callable, email: str) -> dict:
    """One head's journey in this process, with a link minted for them, its SQL counted
    per request. The head then has signed."""
    app = make_app(SESSION_COOKIE_SECURE=False)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        campaign = db.session.scalar(select(Campaign))
        path = invitation_path(campaign, user)  # as the invitation's link
        token = issue_sign_in_link(user, next_path=path).rsplit("/", 1)[1]
        db.session.commit()
    with counting_queries(app) as counter:
        browser = CountingBrowser(app, counter)
        signed = journey(browser, token)
    with app.app_context():
        db.engine.dispose()
    return {"signed": signed, "queries": browser.queries, "errors": browser.errors}

"""Sending the outbox: claim ready messages atomically, hand them to the mail
backend in parallel, and record each outcome.

A message is claimed by moving it from `created` to `sending` in a guarded UPDATE
(on PostgreSQL its rows are first locked with FOR UPDATE SKIP LOCKED, in the same
transaction), so two workers never hold the same message. A sender holds one claim
at a time: its memory grows with SEND_CLAIM_SIZE, not with the audience (README).
A message left in `sending` by a worker that died is never sent again
automatically: SendGrid's `processed` event (which carries our id) marks it sent;
otherwise the lead decides (see README).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import selectinload

from campaign.delivery.compose import Batch, compose
from campaign.delivery.models import Channel, Message, MessageState, email_hash
from campaign.delivery.outbox import dao_suppressed
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.mail import (
    MailClient,
    PermanentMailError,
    RetryableMailError,
    UncertainMailError,
    mail_client,
)

log = logging.getLogger(__name__)
SUPPRESSED = "Not sent: this address unsubscribed, bounced or reported spam before."


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    suppressed: int = 0
    uncertain: int = 0
    api_calls: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "seconds": round(self.seconds, 2)}


def _now() -> datetime:
    return datetime.now(UTC)


def _ours(campaign_id: int, audience: Audience | None):
    conditions = [Message.campaign_id == campaign_id, Message.channel == Channel.EMAIL]
    if audience is not None:
        conditions.append(Message.audience == audience)
    return conditions


def claim(campaign_id: int, audience: Audience | None, limit: int) -> list[int]:
    """Move up to `limit` ready messages from created to sending; return their ids.
    Committed at once, so no other worker can take them."""
    now = _now()
    ready = (
        select(Message.id)
        .where(
            *_ours(campaign_id, audience),
            Message.state == MessageState.CREATED,
            (Message.next_attempt.is_(None)) | (Message.next_attempt <= now),
        )
        .order_by(Message.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Locked and read first: in one UPDATE … IN (SELECT … LIMIT n FOR UPDATE SKIP
        # LOCKED), a plan that re-runs the subquery for each row skips the rows the
        # UPDATE has just changed and locks the next n, so one claim took every message.
        chosen = Message.id.in_(db.session.scalars(ready.with_for_update(skip_locked=True)).all())
    else:  # one statement under SQLite's write lock: no other sender reads in between
        chosen = Message.id.in_(ready.scalar_subquery())
    claimed = db.session.scalars(
        Message.guarded_update(
            chosen,
            to=MessageState.SENDING,
            claimed=now,
            updated=now,
            attempts=Message.attempts + 1,
        ).returning(Message.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.commit()
    return sorted(claimed)


def seconds_to_next_attempt(campaign_id: int, audience: Audience | None) -> float | None:
    """How long until a message waiting to retry is ready; None if none waits."""
    earliest, waiting = db.session.execute(
        select(func.min(Message.next_attempt), func.count()).where(
            *_ours(campaign_id, audience), Message.state == MessageState.CREATED
        )
    ).one()
    if not waiting:
        return None
    if earliest is None:
        return 0.0
    return max((earliest - _now()).total_seconds(), 0.0)


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next try: what the provider asked for, else exponential
    (base × 2^(attempts−1), capped) with jitter so retries do not arrive together."""
    config = current_app.config
    base, cap = config["SEND_BACKOFF_BASE"], config["SEND_BACKOFF_CAP"]
    if retry_after is not None:  # honoured, up to an hour
        return min(retry_after, 3600.0) + random.uniform(0, base)
    return random.uniform(0.5, 1.0) * min(cap, base * 2 ** max(attempts - 1, 0))


def _update(messages: list[Message], to: MessageState | None, **values) -> None:
    """Record an outcome, only for messages still in `sending` (an event may have
    moved them on already; a finished state is never overwritten). `to` None keeps
    them in `sending`."""
    Message.move(
        Message.id.in_([m.id for m in messages]),
        to=to,
        only_from={MessageState.SENDING},
        **values,
    )


def _fail(messages: list[Message], error: str, summary: SendSummary) -> None:
    # A failed parent keeps its address, so the lead's "Try again" can reach them.
    summary.failed += len(messages)
    _update(messages, MessageState.FAILED, last_error=error[:1000])


def _record(
    batch: Batch, future: Future | None, summary: SendSummary, accepted: list[dict]
) -> None:
    """Turn a request's outcome into message states; accepted messages are gathered
    for `_record_accepted`. The caller commits."""
    if future is None:
        _fail(batch.messages, batch.error, summary)
        return
    now = _now()
    try:
        provider_id = future.result()
    except RetryableMailError as exc:
        max_attempts = current_app.config["SEND_MAX_ATTEMPTS"]
        for message in batch.messages:
            if message.attempts >= max_attempts:
                _fail([message], f"Gave up after {message.attempts} attempts: {exc}", summary)
            else:
                summary.retrying += 1
                wait = backoff(message.attempts, exc.retry_after)
                _update(
                    [message],
                    MessageState.CREATED,
                    last_error=str(exc),
                    next_attempt=now + timedelta(seconds=wait),
                )
    except UncertainMailError as exc:
        # Not sent again automatically: its `processed` event, or the lead, settles it.
        summary.uncertain += len(batch.messages)
        _update(batch.messages, None, last_error=f"{exc} In doubt until SendGrid reports on it.")
    except PermanentMailError as exc:
        if len(batch.messages) > 1:
            # One bad address refuses a whole request: each goes again on its own.
            summary.retrying += len(batch.messages)
            _update(
                batch.messages,
                MessageState.CREATED,
                alone=True,
                last_error=f"{exc} (trying each on its own)",
            )
        else:
            _fail(batch.messages, str(exc), summary)
    except Exception as exc:  # a bug must not strand the rest of the claim in `sending`
        log.exception("Sending messages %s failed unexpectedly", [m.id for m in batch.messages])
        _fail(batch.messages, f"Could not be sent ({type(exc).__name__}); see the log.", summary)
    else:
        summary.sent += len(batch.messages)
        accepted.extend(
            {"mid": m.id, "pid": provider_id[:100], "erase": batch.erase_addresses}
            for m in batch.messages
        )


def _record_accepted(accepted: list[dict]) -> None:
    """The common outcome, written in two statements whatever the count: the state
    (guarded), then the provider's id and the erasure of parents' addresses (whatever
    state an early event has moved the message to)."""
    if not accepted:
        return
    table, now = Message.__table__, _now()
    connection = db.session.connection()
    connection.execute(
        Message.guarded_update(
            Message.id == bindparam("mid"),
            to=MessageState.SENT,
            only_from={MessageState.SENDING},
            sent=now,
            updated=now,
            last_error="",
            next_attempt=None,
        ),
        accepted,
    )
    connection.execute(
        table.update()
        .where(table.c.id == bindparam("mid"))
        .values(
            provider_id=bindparam("pid"),
            to_address=case((bindparam("erase"), ""), else_=table.c.to_address),
        ),
        accepted,
    )


def _set_aside(messages: list[Message], summary: SendSummary) -> bool:
    """Fail messages whose letter is gone and drop suppressed addresses, before any
    request. Returns whether any were set aside (the caller commits and reloads)."""
    orphans = [m for m in messages if m.letter is None]
    if orphans:
        _fail(orphans, "Its letter no longer exists: render the letters again.", summary)
    suppressed = dao_suppressed([email_hash(m.to_address) for m in messages])
    dropped = [m for m in messages if email_hash(m.to_address) in suppressed]
    if dropped:
        summary.suppressed += len(dropped)
        _update(dropped, MessageState.DROPPED, last_error=SUPPRESSED, to_address="")
    return bool(orphans or dropped)


def _load(ids: list[int]) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.id.in_(ids), Message.state == MessageState.SENDING)
            .options(selectinload(Message.letter))
            .order_by(Message.id)
        )
    )


def send_ready(
    campaign_id: int,
    audience: Audience | None = None,
    *,
    client: MailClient | None = None,
    workers: int | None = None,
    claim_size: int | None = None,
    wait: bool = True,
    progress: Callable[[SendSummary], None] | None = None,
) -> SendSummary:
    """Send every ready email of a campaign (one audience, or all), in parallel.

    With `wait`, waits out retry backoffs until nothing is left to try; safe to
    run in several workers at once."""
    config = current_app.config
    client = client or mail_client()
    workers = workers or config["SEND_WORKERS"]
    claim_size = claim_size or config["SEND_CLAIM_SIZE"]
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return SendSummary()
    association_email = campaign.association.email
    summary = SendSummary()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send") as pool:
        while True:
            ids = claim(campaign_id, audience, claim_size)
            if not ids:
                pause = seconds_to_next_attempt(campaign_id, audience) if wait else None
                if pause is None:
                    break
                time.sleep(min(pause, 5.0) + 0.01)
                continue
            messages = _load(ids)
            if _set_aside(messages, summary):
                db.session.commit()
                messages = _load(ids)
            submitted: list[tuple[Batch, Future | None]] = []
            try:
                for batch in compose(messages, association_email):
                    future = None
                    if not batch.error:
                        future = pool.submit(client.send_batch, batch.email, batch.recipients)
                    submitted.append((batch, future))
            finally:
                # Outcomes are written together once every request has answered: the
                # database (SQLite's write lock) is held for milliseconds, not for the
                # requests. They are already `sending`, so a crash before the commit
                # leaves them in doubt but never sends them again.
                futures_wait([f for _, f in submitted if f is not None])
                summary.api_calls += sum(1 for _, f in submitted if f is not None)
                accepted: list[dict] = []
                for batch, future in submitted:
                    _record(batch, future, summary, accepted)
                _record_accepted(accepted)
                db.session.commit()
            if progress:
                progress(summary)
    summary.seconds = time.monotonic() - started
    return summary

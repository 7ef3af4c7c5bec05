"""Sending the outbox: claim ready messages atomically, hand them to the mail
backend in parallel, and record each outcome.

A message is claimed by moving it from `created` to `sending` in one guarded
UPDATE (on PostgreSQL its rows are picked with FOR UPDATE SKIP LOCKED), so two
workers never hold the same message. A message left in `sending` by a worker
that died is never sent again automatically: SendGrid's `processed` event
(which carries our id) marks it sent; otherwise the lead decides (see README).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from campaign.delivery.compose import Batch, compose
from campaign.delivery.models import Channel, Message, MessageState, email_hash
from campaign.delivery.outbox import dao_suppressed
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.mail import MailClient, PermanentMailError, RetryableMailError, mail_client

log = logging.getLogger(__name__)
SUPPRESSED = "Not sent: this address unsubscribed, bounced or reported spam before."


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    suppressed: int = 0
    api_calls: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retrying": self.retrying,
            "suppressed": self.suppressed,
            "api_calls": self.api_calls,
            "seconds": round(self.seconds, 2),
        }


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
        ready = ready.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        update(Message)
        .where(Message.id.in_(ready.scalar_subquery()), Message.state == MessageState.CREATED)
        .values(state=MessageState.SENDING, claimed=now, updated=now, attempts=Message.attempts + 1)
        .returning(Message.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.commit()
    return sorted(claimed)


def seconds_to_next_attempt(campaign_id: int, audience: Audience | None) -> float | None:
    """How long until a message waiting to retry is ready; None if none waits."""
    earliest = db.session.scalar(
        select(func.min(Message.next_attempt)).where(
            *_ours(campaign_id, audience), Message.state == MessageState.CREATED
        )
    )
    if earliest is None:
        waiting = db.session.scalar(
            select(func.count()).where(
                *_ours(campaign_id, audience), Message.state == MessageState.CREATED
            )
        )
        return 0.0 if waiting else None
    return max((earliest - _now()).total_seconds(), 0.0)


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next try: what the provider asked for, else exponential
    (base × 2^(attempts−1), capped) with jitter so retries do not arrive together."""
    config = current_app.config
    base, cap = config["SEND_BACKOFF_BASE"], config["SEND_BACKOFF_CAP"]
    if retry_after is not None:  # honoured, up to an hour
        return min(retry_after, 3600.0) + random.uniform(0, base)
    return random.uniform(0.5, 1.0) * min(cap, base * 2 ** max(attempts - 1, 0))


def _finish(messages: list[Message], erase: bool, **values) -> None:
    """Record an outcome for messages still in `sending` (an event may have moved
    them on already; a finished state is never overwritten)."""
    values["updated"] = _now()
    if erase:
        values["to_address"] = ""
    db.session.execute(
        update(Message)
        .where(Message.id.in_([m.id for m in messages]), Message.state == MessageState.SENDING)
        .values(**values),
        execution_options={"synchronize_session": False},
    )


def _record(batch: Batch, future: Future, summary: SendSummary) -> None:
    now = _now()
    max_attempts = current_app.config["SEND_MAX_ATTEMPTS"]
    try:
        provider_id = future.result()
    except RetryableMailError as exc:
        for message in batch.messages:
            if message.attempts >= max_attempts:
                summary.failed += 1
                _finish(
                    [message],
                    batch.erase_addresses,
                    state=MessageState.FAILED,
                    last_error=f"Gave up after {message.attempts} attempts: {exc}",
                )
            else:
                summary.retrying += 1
                wait = backoff(message.attempts, exc.retry_after)
                _finish(
                    [message],
                    False,
                    state=MessageState.CREATED,
                    last_error=str(exc),
                    next_attempt=now + timedelta(seconds=wait),
                )
    except PermanentMailError as exc:
        summary.failed += len(batch.messages)
        _finish(
            batch.messages,
            batch.erase_addresses,
            state=MessageState.FAILED,
            last_error=str(exc)[:1000],
        )
    except Exception as exc:  # a bug must not strand the rest of the claim in `sending`
        log.exception("Sending messages %s failed unexpectedly", [m.id for m in batch.messages])
        summary.failed += len(batch.messages)
        _finish(
            batch.messages,
            batch.erase_addresses,
            state=MessageState.FAILED,
            last_error=f"Could not be sent ({type(exc).__name__}); see the worker's log.",
        )
    else:
        summary.sent += len(batch.messages)
        _finish(
            batch.messages,
            batch.erase_addresses,
            state=MessageState.SENT,
            provider_id=provider_id[:100],
            sent=now,
            last_error="",
            next_attempt=None,
        )


def _drop_letterless(messages: list[Message], summary: SendSummary) -> list[Message]:
    """A letter re-rendered away (its school withdrew) leaves its message nothing to send."""
    orphans = [m for m in messages if m.letter is None]
    if orphans:
        summary.failed += len(orphans)
        _finish(
            orphans,
            False,
            state=MessageState.FAILED,
            last_error="Its letter no longer exists: render the letters again.",
        )
    return [m for m in messages if m.letter is not None]


def _drop_suppressed(messages: list[Message], summary: SendSummary) -> list[Message]:
    suppressed = dao_suppressed([email_hash(m.to_address) for m in messages])
    if not suppressed:
        return messages
    dropped = [m for m in messages if email_hash(m.to_address) in suppressed]
    summary.suppressed += len(dropped)
    _finish(dropped, True, state=MessageState.DROPPED, last_error=SUPPRESSED)
    db.session.commit()
    return [m for m in messages if email_hash(m.to_address) not in suppressed]


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
            messages = list(
                db.session.scalars(
                    select(Message)
                    .where(Message.id.in_(ids))
                    .options(selectinload(Message.letter))
                    .order_by(Message.id)
                )
            )
            messages = _drop_suppressed(_drop_letterless(messages, summary), summary)
            batches = compose(messages, association_email)
            futures = [(b, pool.submit(client.send_batch, b.email, b.recipients)) for b in batches]
            summary.api_calls += len(futures)
            for batch, future in futures:
                _record(batch, future, summary)
            # One commit a claim: the messages are already marked `sending`, so a crash
            # before it can leave them in doubt but never sends them again.
            db.session.commit()
            if progress:
                progress(summary)
    summary.seconds = time.monotonic() - started
    return summary

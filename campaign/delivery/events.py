"""SendGrid's signed event webhook: verify it, then move messages forward.

Events arrive late, twice, or out of order: each is kept once (by its
sg_event_id), a message only ever moves forward, and a finished state is never
overwritten. Events for ids we do not know are ignored.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy import func, select, update

from campaign.delivery.models import DeliveryEvent, Message, MessageState, Suppression, email_hash
from campaign.delivery.outbox import insert_new
from campaign.extensions import db

MAX_AGE = 600  # seconds: an older (or a replayed old) signature is refused

# What each event means for the message; None: recorded, state unchanged.
STATES = {
    "processed": MessageState.SENT,
    "delivered": MessageState.DELIVERED,
    "deferred": None,
    "bounce": MessageState.BOUNCED,
    "dropped": MessageState.DROPPED,
    "open": None,
    "click": None,
    "spamreport": None,
    "unsubscribe": None,
    "group_unsubscribe": None,
}
SUPPRESSING = {
    "bounce": "bounce",
    "spamreport": "spamreport",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}
# Kept out of the stored payload: the message already says who it was for.
PERSONAL = {"email", "ip", "useragent", "url"}


def signature_valid(
    public_key: str, raw_body: bytes, signature: str, timestamp: str, now: float | None = None
) -> bool:
    """SendGrid's ECDSA signature over timestamp + raw body, and a fresh timestamp."""
    if not (public_key and signature and timestamp):
        return False
    try:
        age = (now or time.time()) - int(timestamp)
        payload = raw_body.decode("utf-8")
        verifier = EventWebhook(public_key)
        return abs(age) <= MAX_AGE and verifier.verify_signature(payload, signature, timestamp)
    except (ValueError, TypeError, UnicodeDecodeError):  # bad key, bad base64, bad number
        return False


@dataclass
class EventSummary:
    received: int = 0
    recorded: int = 0
    duplicates: int = 0
    unknown: int = 0
    moved: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


ADDRESS = re.compile(r"[^\s<>\"'@]+@[^\s<>\"']+")


def _without_addresses(event: dict) -> dict:
    """The event as kept: no address, IP or user agent, and any address quoted in a
    bounce reason or server response replaced."""
    return {
        key: ADDRESS.sub("[address]", value) if isinstance(value, str) else value
        for key, value in event.items()
        if key not in PERSONAL
    }


def _message_id(event: dict) -> int | None:
    value = event.get("message_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _event_id(event: dict) -> str:
    if value := event.get("sg_event_id"):
        return str(value)[:100]
    return hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()


def _when(event: dict) -> datetime:
    try:
        return datetime.fromtimestamp(int(event["timestamp"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def record_events(events: list) -> EventSummary:
    """Keep each new event and apply it to its message; the caller commits."""
    summary = EventSummary(received=len(events))
    events = [e for e in events if isinstance(e, dict) and isinstance(e.get("event"), str)]
    wanted = {_message_id(e) for e in events} - {None}
    messages = {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(wanted)))}
    known = [e for e in events if _message_id(e) in messages]
    summary.unknown = summary.received - len(known)
    ids = [_event_id(e) for e in known]
    seen = set(
        db.session.scalars(
            select(DeliveryEvent.provider_event_id).where(DeliveryEvent.provider_event_id.in_(ids))
        )
    )
    fresh = []
    for event, event_id in zip(known, ids, strict=True):
        if event_id in seen:
            summary.duplicates += 1
            continue
        seen.add(event_id)
        fresh.append((event, event_id))
    rows = [
        {
            "message_id": _message_id(event),
            "event": event["event"][:32],
            "provider_event_id": event_id,
            "occurred": _when(event),
            "payload": _without_addresses(event),
        }
        for event, event_id in fresh
    ]
    summary.recorded = insert_new(DeliveryEvent, rows, "provider_event_id")
    summary.duplicates += len(rows) - summary.recorded
    suppress = []
    for event, _ in sorted(fresh, key=lambda pair: _when(pair[0])):
        message = messages[_message_id(event)]
        target = STATES.get(event["event"])
        if target is not None:
            summary.moved += _move_forward(message.id, target, _when(event))
        address = event.get("email") or message.to_address
        reason = _suppresses(event)
        if reason and address:
            suppress.append({"email_sha256": email_hash(address), "reason": reason})
    insert_new(Suppression, suppress, "email_sha256")
    return summary


def _suppresses(event: dict) -> str | None:
    """Why this event stops further mail to the address, if it does. A "blocked"
    bounce is the receiving server's temporary refusal, not a bad address."""
    if event["event"] == "bounce" and event.get("type") == "blocked":
        return None
    return SUPPRESSING.get(event["event"])


def _move_forward(message_id: int, target: MessageState, when: datetime) -> int:
    """Move a message to `target` only from a state before it, in one guarded UPDATE,
    so neither a late event nor the sender's own write can overwrite a later state."""
    earlier = [s for s in MessageState if not s.finished and s.rank < target.rank]
    values: dict = {"state": target, "updated": datetime.now(UTC)}
    if target is MessageState.SENT:
        values["sent"] = func.coalesce(Message.sent, when)
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.state.in_(earlier))
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0

"""SendGrid's signed event webhook: verify it, then move messages forward.

Events arrive late, twice, or out of order: each is kept once (by its
sg_event_id), a message only ever moves forward, and a finished state is never
overwritten. Events for ids we do not know are ignored.

A signed body is still read with care: at most MAX_BODY_BYTES, no Infinity or
NaN, nesting at most MAX_DEPTH deep, and each event's fields of the types
SendGrid sends. An event that is not is logged and ignored; the rest go on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy import func, select

from campaign.bounds import MAX_ID
from campaign.delivery.models import DeliveryEvent, Message, MessageState, Suppression, email_hash
from campaign.delivery.outbox import insert_new
from campaign.extensions import db

log = logging.getLogger(__name__)

MAX_AGE = 600  # seconds: an older (or a replayed old) signature is refused
# SendGrid posts a batch at 768 KB at most; twice that leaves room.
MAX_BODY_BYTES = 2 * 1024 * 1024
# An event is one object of fields, some of them lists or small objects.
MAX_DEPTH = 8

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


class _NotANumber:
    """What the body's Infinity, NaN or an overflowing number reads as: a value that
    marks its event as malformed (JSON has no such numbers, and no column holds them)."""

    def __repr__(self) -> str:
        return "not a number"


NOT_A_NUMBER = _NotANumber()


def _number(text: str) -> float | int | _NotANumber:
    value = float(text)
    return value if math.isfinite(value) else NOT_A_NUMBER


def _integer(text: str) -> int | _NotANumber:
    return int(text) if len(text) <= 30 else NOT_A_NUMBER


def parse_events(raw: bytes) -> list | None:
    """The body's list of events, or None if it is not a JSON list we can read."""
    try:
        events = json.loads(
            raw,
            parse_constant=lambda name: NOT_A_NUMBER,
            parse_float=_number,
            parse_int=_integer,
        )
    except (ValueError, RecursionError):  # not JSON (or not UTF-8); nested too deep
        return None
    return events if isinstance(events, list) else None


def _depth_over(value, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit` (it stops looking there)."""
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        return False
    return limit <= 0 or any(_depth_over(v, limit - 1) for v in value)


def _holds(value, wanted) -> bool:
    if isinstance(value, dict):
        return any(_holds(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(_holds(v, wanted) for v in value)
    return wanted(value)


def _is_text(value, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest and "\x00" not in value


def malformed(event) -> str | None:
    """Why an event cannot be what SendGrid sends, or None if it can be used."""
    if not isinstance(event, dict):
        return "an event that is not an object"
    if _depth_over(event, MAX_DEPTH):
        return f"values nested more than {MAX_DEPTH} deep"
    if _holds(event, lambda v: v is NOT_A_NUMBER):
        return "a number that is infinite, not a number, or too long"
    if _holds(event, lambda v: isinstance(v, str) and "\x00" in v):
        return "text with a NUL character"
    if not _is_text(event.get("event"), 32):
        return "no event name (text of at most 32 characters)"
    if "sg_event_id" in event and not _is_text(event["sg_event_id"], 100):
        return "an sg_event_id that is not text of at most 100 characters"
    if event.get("email") is not None and not isinstance(event["email"], str):
        return "an email that is not text"
    message_id = event.get("message_id")
    if isinstance(message_id, bool) or not isinstance(message_id, str | int | None):
        return "a message_id that is neither text nor a whole number"
    return None


@dataclass
class EventSummary:
    received: int = 0
    recorded: int = 0
    duplicates: int = 0
    unknown: int = 0
    # Malformed: logged, not recorded.
    ignored: int = 0
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
    """Our message's id, if the event carries one that can be ours (our own mail sets
    it as text: other mail on the account may carry anything)."""
    value = event.get("message_id")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= MAX_ID else None


def _event_id(event: dict) -> str:
    if value := event.get("sg_event_id"):
        return str(value)[:100]
    return hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()


def _when(event: dict) -> datetime:
    try:
        return datetime.fromtimestamp(int(event["timestamp"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def record_events(events: list) -> EventSummary:
    """Keep each new event and apply it to its message; malformed ones are logged and
    ignored. The caller commits."""
    summary = EventSummary(received=len(events))
    usable, reasons = [], Counter()
    for event in events:
        if reason := malformed(event):
            reasons[reason] += 1
        else:
            usable.append(event)
    if reasons:
        summary.ignored = reasons.total()
        log.warning(
            "Ignored %d of %d events in a webhook post: %s.",
            summary.ignored,
            len(events),
            "; ".join(f"{n} with {reason}" for reason, n in reasons.most_common()),
        )
    wanted = {_message_id(e) for e in usable} - {None}
    messages = {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(wanted)))}
    known = [e for e in usable if _message_id(e) in messages]
    summary.unknown = len(usable) - len(known)
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
    """Move a message to `target` only from a state before it (the transition table's),
    in one guarded UPDATE, so neither a late event nor the sender's own write can
    overwrite a later state."""
    values = {"sent": func.coalesce(Message.sent, when)} if target is MessageState.SENT else {}
    return Message.move(Message.id == message_id, to=target, **values)

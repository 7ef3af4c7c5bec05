"""Retention: a finished campaign's outbox keeps each message's state (so every count
stays) but no address, name or provider text; its parents' lists are deleted; and a
parents' list older than the retention period goes whatever its campaign."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, delete, func, or_, select, update

from campaign.delivery.models import DeliveryEvent, Message, ParentList
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import RecipientKind, parse_recipient

# What SendGrid's events may keep: never "email", "ip", "useragent", "url" or a reason
# quoting the address.
KEPT_EVENT_FIELDS = {"event", "timestamp", "sg_event_id", "sg_message_id", "message_id", "type"}
ERASED = "erased"


def anonymise_outbox(campaign_ids: Collection[int]) -> int:
    """Erase the addresses, names and errors of the campaigns' messages, and the hash of
    each parent's address in its recipient key; how many messages changed. The caller
    commits."""
    if not campaign_ids:
        return 0
    parent_key_kept = Message.recipient.like(f"{RecipientKind.PARENT.value}:%") & (
        Message.recipient.not_like(f"%:{ERASED}-%")
    )
    found = db.session.execute(
        select(Message.id, Message.recipient, Message.idempotency_key).where(
            Message.campaign_id.in_(campaign_ids),
            or_(
                Message.to_address != "",
                Message.to_name != "",
                Message.last_error != "",
                parent_key_kept,
            ),
        )
    ).all()
    rows = []
    for message_id, recipient, key in found:
        kind, rest = parse_recipient(recipient)
        if kind is RecipientKind.PARENT and f":{ERASED}-" not in recipient:
            # "parent:<URN>:<hash of address>" becomes "parent:<URN>:erased-<id>": unique still.
            erased = RecipientKind.PARENT.key(rest.partition(":")[0], f"{ERASED}-{message_id}")
            recipient, key = erased, key.replace(recipient, erased)
        rows.append({"mid": message_id, "recipient": recipient, "key": key})
    table = Message.__table__
    for start in range(0, len(rows), 1000):
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("mid"))
            .values(
                to_address="",
                to_name="",
                last_error="",
                recipient=bindparam("recipient"),
                idempotency_key=bindparam("key"),
            ),  # fmt: skip
            rows[start : start + 1000],
        )
    return len(rows)


def anonymise_delivery_events(campaign_ids: Collection[int]) -> int:
    """Keep only the event, its time and ids of each SendGrid event of the campaigns;
    how many changed. The caller commits."""
    if not campaign_ids:
        return 0
    changed = 0
    events = db.session.scalars(
        select(DeliveryEvent)
        .join(Message, Message.id == DeliveryEvent.message_id)
        .where(Message.campaign_id.in_(campaign_ids))
    )
    for event in events:
        kept = {k: v for k, v in (event.payload or {}).items() if k in KEPT_EVENT_FIELDS}
        if kept != event.payload:
            event.payload = kept
            changed += 1
    return changed


def delete_parent_lists(
    campaign_ids: Collection[int], uploaded_before: datetime, association_id: int | None = None
) -> int:
    """Delete the campaigns' parents' lists, and every list uploaded before
    `uploaded_before` (of the association's campaigns, if one is given); how many.
    The caller commits."""
    old = ParentList.uploaded < uploaded_before
    if association_id is not None:
        ours = select(Campaign.id).where(Campaign.association_id == association_id)
        old = old & ParentList.campaign_id.in_(ours)
    where = or_(ParentList.campaign_id.in_(list(campaign_ids)), old)
    count = db.session.scalar(select(func.count()).select_from(ParentList).where(where))
    db.session.execute(
        delete(ParentList).where(where), execution_options={"synchronize_session": False}
    )
    return count

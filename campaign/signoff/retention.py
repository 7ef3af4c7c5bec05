"""Retention: a finished campaign's signatures keep each school's decision, the text
it bound to and the time, not the person who gave it; the audit log keeps what was
done and when, not who."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select, update

from campaign.extensions import db
from campaign.signoff.models import AuditEvent, Signature

# What an anonymised signature is signed as (the database wants a name).
REMOVED = "(removed)"
# Audit details that name a person: a signatory's name and role.
PERSONAL_DETAIL = {"name", "role", "email", "comment"}


def anonymise_signatures(campaign_ids: Collection[int]) -> int:
    """Remove the signatories' names, roles, comments, client hashes and accounts from
    the campaigns' signatures; how many changed. The caller commits."""
    if not campaign_ids:
        return 0
    result = db.session.execute(
        update(Signature)
        .where(
            Signature.campaign_id.in_(campaign_ids),
            or_(
                Signature.name != REMOVED,
                Signature.role != "",
                Signature.comment != "",
                Signature.client_hash != "",
                Signature.user_id.is_not(None),
            ),
        )
        .values(name=REMOVED, role="", comment="", client_hash="", user_id=None),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def anonymise_audit_log(campaign_ids: Collection[int]) -> int:
    """Remove who did it (the actor, names in the detail) from the campaigns' audit
    events; how many changed. The caller commits."""
    if not campaign_ids:
        return 0
    changed = 0
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.campaign_id.in_(campaign_ids)))
    for event in events:
        detail = {k: v for k, v in (event.detail or {}).items() if k not in PERSONAL_DETAIL}
        if event.actor_id is not None or detail != (event.detail or {}):
            event.actor_id, event.detail = None, detail
            changed += 1
    return changed

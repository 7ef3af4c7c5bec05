"""Sign-off: freezing the text, signing for a school, withdrawing, reopening, closing."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import contains_eager, joinedload

from campaign.consultation import reminders
from campaign.consultation.reminders import LastReminder
from campaign.directory.models import School, User
from campaign.directory.services import (
    dao_head_count_not_in,
    dao_head_ids,
    dao_head_ids_not_in,
    dao_heads_school_not_in,
    dao_member_schools_not_in,
)
from campaign.drafting.models import Campaign, CampaignState, StatementVersion
from campaign.extensions import db
from campaign.formatting import when
from campaign.paging import Page, paginate
from campaign.signoff.models import AuditEvent, Decision, Signature


class SignOffError(Exception):
    """A sign-off action that cannot be done; the message says why."""


class AlreadyAnswered(SignOffError):
    """The school has already signed or declined (a second submit)."""


class ChasedRecently(SignOffError):
    """A chaser went to the same heads within REMINDER_INTERVAL: confirm to send another."""

    def __init__(self, last: LastReminder):
        self.last = last
        super().__init__(reminders.warning(last))


def audit(campaign: Campaign, actor: User | None, action: str, **detail) -> None:
    db.session.add(
        AuditEvent(
            campaign_id=campaign.id,
            actor_id=actor.id if actor else None,
            action=action,
            detail=detail,
        )
    )


def freeze(campaign: Campaign, by: User) -> list[int]:
    """Freeze the current version and open sign-off; return the heads to invite.
    The caller commits, then queues one invitation per head."""
    version = campaign.current_version
    if version is None:
        raise SignOffError("Write the statement before opening sign-off.")
    if campaign.signoff_deadline and campaign.signoff_deadline <= datetime.now(UTC):
        raise SignOffError("Set a sign-off deadline in the future first.")
    campaign.move_to(CampaignState.SIGNOFF)
    campaign.frozen_version = version
    audit(campaign, by, "froze", version=version.number, sha256=version.sha256)
    return dao_head_ids(campaign.association_id)


def reopen(campaign: Campaign, by: User) -> list[int]:
    """Back to consultation: the round's signatures are void. Returns the users who
    had signed or declined, to tell them. The caller commits."""
    campaign.move_to(CampaignState.CONSULTATION)
    signatures = dao_signatures(campaign.id)
    audit(
        campaign,
        by,
        "reopened",
        voided=[
            {
                "urn": s.school.urn,
                "decision": s.decision.value,
                "name": s.name,
                "withdrawn": bool(s.withdrawn),
            }
            for s in signatures
        ],
    )
    db.session.execute(delete(Signature).where(Signature.campaign_id == campaign.id))
    campaign.frozen_version = None
    campaign.consultation_closed = None
    return sorted({s.user_id for s in signatures if s.user_id and s.withdrawn is None})


def close(campaign: Campaign, by: User | None) -> None:
    """Signatures become final. The caller commits."""
    campaign.move_to(CampaignState.CLOSED)
    audit(campaign, by, "closed", signed=dao_standing_count(campaign.id))


def save_settings(campaign: Campaign, by: User, *, reminder_days: str, public_page: bool) -> None:
    """The reminder days (like "7,3,1") and whether the signatories are published."""
    campaign.reminder_days = reminder_days
    campaign.public_page = public_page
    audit(campaign, by, "settings", reminder_days=reminder_days, public_page=public_page)


def dao_audit_events(campaign_id: int, page: int = 1) -> Page[AuditEvent]:
    """One page of the campaign's audit log, newest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.campaign_id == campaign_id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
    )
    return Page(*paginate(stmt, page))


def require_open(campaign: Campaign) -> None:
    if campaign.state is not CampaignState.SIGNOFF:
        raise SignOffError("Sign-off is not open for this campaign.")
    if not campaign.signoff_open():
        raise SignOffError(
            f"Sign-off closed on {when(campaign.signoff_deadline)}; nothing can change now."
        )


def client_hash(ip: str, user_agent: str) -> str:
    return hashlib.sha256(f"{ip}\n{user_agent}".encode()).hexdigest()


def dao_signature(campaign_id: int, school_id: int) -> Signature | None:
    return db.session.scalar(
        select(Signature).where(
            Signature.campaign_id == campaign_id, Signature.school_id == school_id
        )
    )


def dao_signatures(campaign_id: int) -> list[Signature]:
    return list(
        db.session.scalars(
            select(Signature)
            .where(Signature.campaign_id == campaign_id)
            .options(joinedload(Signature.school))
            .order_by(Signature.id)
        )
    )


def dao_signature_count(campaign_id: int) -> int:
    """How many answers (signed or declined, withdrawn or not) the round holds: what
    reopening voids."""
    count = select(func.count(Signature.id)).where(Signature.campaign_id == campaign_id)
    return db.session.scalar(count) or 0


def _standing(campaign_id: int):
    return (
        Signature.campaign_id == campaign_id,
        Signature.decision == Decision.SIGNED,
        Signature.withdrawn.is_(None),
    )


def dao_standing_count(campaign_id: int) -> int:
    """How many signatures stand (signed, not withdrawn)."""
    return db.session.scalar(select(func.count(Signature.id)).where(*_standing(campaign_id)))


def dao_standing_nearby(campaign_id: int, local_authority: str, limit: int = 30) -> list[str]:
    """The names of signing schools in this local authority, at most `limit`: what a
    head signing sees, however many schools the nation has."""
    return list(
        db.session.scalars(
            select(School.name)
            .join(Signature, Signature.school_id == School.id)
            .where(*_standing(campaign_id), School.local_authority == local_authority)
            .order_by(School.name)
            .limit(limit)
        )
    )


def dao_standing(campaign_id: int) -> list[Signature]:
    """Signatures that stand (signed, not withdrawn), with their schools, by school name."""
    return list(
        db.session.scalars(
            select(Signature)
            .join(School, School.id == Signature.school_id)
            .options(contains_eager(Signature.school))
            .where(*_standing(campaign_id))
            .order_by(School.local_authority, School.name)
        )
    )


def _answered(campaign: Campaign):
    return select(Signature.school_id).where(
        Signature.campaign_id == campaign.id, Signature.withdrawn.is_(None)
    )


def dao_unanswered(
    campaign: Campaign, *, la: str = "", constituency: str = "", query: str = "", page: int = 1
) -> Page[School]:
    """One page of the member schools with no standing answer (never answered, or
    withdrew), named by `query` (part of the name, or the URN) if given."""
    return dao_member_schools_not_in(
        campaign.association_id,
        _answered(campaign),
        la=la,
        constituency=constituency,
        query=query,
        page=page,
    )


def dao_chase_head_count(campaign: Campaign, *, la: str = "", constituency: str = "") -> int:
    """How many heads a chaser to these schools would reach, counted in SQL."""
    return dao_head_count_not_in(
        campaign.association_id, _answered(campaign), la=la, constituency=constituency
    )


def chase_recipients(campaign: Campaign, *, la: str = "", constituency: str = "") -> list[int]:
    """Heads of the schools with no standing answer, and no one else."""
    require_open(campaign)
    return dao_head_ids_not_in(
        campaign.association_id, _answered(campaign), la=la, constituency=constituency
    )


def is_chase_recipient(campaign: Campaign, user_id: int) -> bool:
    """Whether a chaser would still go to this user (see chase_recipients), asked of
    one user in SQL: a queued chaser checks it just before sending."""
    require_open(campaign)
    return dao_heads_school_not_in(campaign.association_id, _answered(campaign), user_id)


def _chases(campaign_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.campaign_id == campaign_id, AuditEvent.action == "chased")
            .order_by(AuditEvent.id.desc())
        )
    )


def dao_last_chase(
    campaign_id: int, *, la: str | None = None, constituency: str | None = None
) -> LastReminder | None:
    """The latest chaser sent by hand (the audit log's "chased"); to this selection
    only, if one is given."""
    for event in _chases(campaign_id):
        sent_to = (event.detail.get("la", ""), event.detail.get("constituency", ""))
        if (la is None and constituency is None) or sent_to == (la or "", constituency or ""):
            return LastReminder(event.created, event.detail.get("heads", 0), *sent_to)
    return None


def check_chase(
    campaign: Campaign, *, batch: str, la: str = "", constituency: str = "", confirm: bool = False
) -> bool:
    """False if this press (`batch`) was recorded already. Raises ChasedRecently for a
    second chaser to the same selection within REMINDER_INTERVAL unless `confirm`."""
    if any(event.detail.get("batch") == batch for event in _chases(campaign.id)):
        return False
    last = dao_last_chase(campaign.id, la=la, constituency=constituency)
    if last and last.is_recent() and not confirm:
        raise ChasedRecently(last)
    return True


# --- letter references --------------------------------------------------------


def reference(campaign: Campaign, version: StatementVersion) -> str:
    """A short code for a letter, derived from the campaign and the signed text's hash:
    "XXXX-XXXX-XXXX" in base32 (letters and the digits 2 to 7; a 0, 1 or 8 typed
    by mistake is read as O, I or B)."""
    digest = hashlib.sha256(f"{campaign.id}:{version.sha256}".encode()).digest()
    code = base64.b32encode(digest).decode()[:12]
    return "-".join(code[i : i + 4] for i in range(0, 12, 4))


def normalise_reference(raw: str) -> str:
    code = "".join(ch for ch in raw.upper() if ch.isalnum())
    code = code.replace("0", "O").replace("1", "I").replace("8", "B")
    return "-".join(code[i : i + 4] for i in range(0, 12, 4)) if len(code) == 12 else ""


@dataclass
class Resolved:
    campaign: Campaign
    version: StatementVersion


def resolve_reference(campaign: Campaign, raw: str) -> Resolved | None:
    """The signed text a letter's reference stands for, if it is this campaign's."""
    version = campaign.frozen_version
    if version is None or not raw:
        return None
    return (
        Resolved(campaign, version)
        if normalise_reference(raw) == reference(campaign, version)
        else None
    )

"""Sign-off's steps in a campaign's lifecycle: the lead freezes, chases, reopens and
closes; each head signs or declines, and may withdraw.

Each step is what the page, the command line, the demo and the tests all call: it
checks, saves, commits, and only then queues its emails by id, so a worker never
looks for a row that is not saved yet (ARCHITECTURE.md, "The commit rule").
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from campaign.consultation.services import new_batch
from campaign.directory.models import School, User
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.signoff import services, tasks
from campaign.signoff.models import Decision, Signature


def freeze(campaign: Campaign, by: User | None) -> list[int]:
    """Freeze the current version and open sign-off; invite every head. Returns the
    heads invited."""
    user_ids = services.freeze(campaign, by)
    db.session.commit()
    for user_id in user_ids:
        tasks.send_invitation(campaign.id, user_id)
    return user_ids


def reopen(campaign: Campaign, by: User) -> tuple[int, list[int]]:
    """Back to consultation, voiding the round's answers; tell the heads who had
    answered. Returns how many answers were voided and whom it told."""
    count = len(services.dao_signatures(campaign.id))
    user_ids = services.reopen(campaign, by)
    db.session.commit()
    key = f"signoff-voided:{campaign.id}:{new_batch()}"
    for user_id in user_ids:
        tasks.send_voided(campaign.id, user_id, key)
    return count, user_ids


def chase(
    campaign: Campaign,
    by: User,
    *,
    batch: str,
    la: str = "",
    constituency: str = "",
    confirm: bool = False,
) -> list[int]:
    """Remind the heads of schools that have not answered (in this local authority or
    constituency, if given); one press (`batch`) reminds each head once. A second
    chaser to the same schools within a day is refused (ChasedRecently) unless
    `confirm`."""
    user_ids = services.chase_recipients(campaign, la=la, constituency=constituency)
    if services.check_chase(
        campaign, batch=batch, la=la, constituency=constituency, confirm=confirm
    ):
        services.audit(
            campaign, by, "chased", heads=len(user_ids), la=la, constituency=constituency,
            batch=batch,
        )  # fmt: skip
        db.session.commit()
    key = f"signoff-chaser:{campaign.id}:{batch}"
    for user_id in user_ids:
        tasks.send_chaser(campaign.id, user_id, key)
    return user_ids


def close(campaign: Campaign, by: User | None) -> None:
    """Close sign-off: the signatures become final."""
    services.close(campaign, by)
    db.session.commit()


def sign(
    campaign: Campaign,
    school: School,
    user: User,
    *,
    decision: Decision,
    name: str,
    role: str,
    shown_sha256: str,
    comment: str = "",
    client: str = "",
) -> Signature:
    """Record the school's decision on the frozen text.

    Refused if sign-off is not open, if the page showed a different text than
    the frozen one, or if the school has already answered (AlreadyAnswered).
    """
    services.require_open(campaign)
    frozen = campaign.frozen_version
    if shown_sha256 != frozen.sha256:
        raise services.SignOffError(
            "The statement changed after this page was opened, so this signature would not "
            "match the text being sent. Read the current text and sign again."
        )
    if not name.strip():
        raise services.SignOffError("Give your name as it should appear on the letter.")
    existing = services.dao_signature(campaign.id, school.id)
    if existing is not None and existing.withdrawn is None:
        raise services.AlreadyAnswered(f"{school.name} has already {existing.decision.value}.")
    if existing is not None:  # signing again after withdrawing: the old one is history
        services.audit(campaign, user, "replaced-withdrawn", urn=school.urn, name=existing.name)
        db.session.delete(existing)
        db.session.flush()
    signature = Signature(
        campaign_id=campaign.id,
        school=school,
        user=user,
        decision=decision,
        name=name.strip(),
        role=role.strip(),
        comment=comment.strip(),
        version_sha256=frozen.sha256,
        client_hash=client,
    )
    db.session.add(signature)
    services.audit(
        campaign, user, decision.value, urn=school.urn, name=signature.name, role=signature.role
    )
    try:
        db.session.commit()
    except IntegrityError:  # another tab or co-head answered at the same moment
        db.session.rollback()
        raise services.AlreadyAnswered(f"{school.name} has already answered.") from None
    return signature


def withdraw(campaign: Campaign, school: School, user: User) -> Signature:
    """Withdraw the school's answer before the deadline (kept, marked withdrawn)."""
    services.require_open(campaign)
    signature = services.dao_signature(campaign.id, school.id)
    if signature is None or signature.withdrawn is not None:
        raise services.SignOffError(f"{school.name} has no answer to withdraw.")
    signature.withdrawn = datetime.now(UTC)
    services.audit(campaign, user, "withdrew", urn=school.urn, decision=signature.decision.value)
    db.session.commit()
    return signature

"""Consultation's steps in a campaign's lifecycle, as the lead takes them.

Each step is what the page, the command line, the demo and the tests all call: it
checks, saves, commits, and only then queues its emails by id, so a worker never
looks for a row that is not saved yet (ARCHITECTURE.md, "The commit rule").
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from campaign.consultation import reminders, services, tasks
from campaign.consultation.models import Amendment
from campaign.directory.models import User
from campaign.drafting.models import Campaign, CampaignState, StatementVersion
from campaign.extensions import db


def open_consultation(campaign: Campaign) -> list[int]:
    """Open the round and invite every head; returns the heads invited."""
    head_ids = services.open_consultation(campaign)
    db.session.commit()
    for user_id in head_ids:
        tasks.send_invitation(campaign.id, user_id)
    return head_ids


def close_consultation(campaign: Campaign) -> None:
    """Stop answers now, before the deadline."""
    services.close_consultation(campaign)
    db.session.commit()


def back_to_draft(campaign: Campaign) -> None:
    """Another drafting round: the lead edits, then opens a new consultation."""
    campaign.move_to(CampaignState.DRAFT)
    db.session.commit()


def chase(
    campaign: Campaign,
    *,
    batch: str,
    la: str = "",
    constituency: str = "",
    by: User | None = None,
    confirm: bool = False,
) -> list[int]:
    """Remind the heads of schools that have not answered (in this local authority or
    constituency, if given); one press (`batch`) reminds each head once. A second
    reminder to the same schools within a day is refused (ReminderSentRecently)
    unless `confirm`."""
    user_ids = services.reminder_recipients(campaign, la=la, constituency=constituency)
    if user_ids:
        reminders.record_reminder(
            campaign, by, batch=batch, heads=len(user_ids), la=la, constituency=constituency,
            confirm=confirm,
        )  # fmt: skip
        try:
            db.session.commit()
        except IntegrityError:  # the same press posted twice at once: the other one records it
            db.session.rollback()
    for user_id in user_ids:
        tasks.send_reminder(campaign.id, user_id, batch)
    return user_ids


def decide_amendment(
    amendment: Amendment, campaign: Campaign, *, accept: bool, note: str, by: User
) -> StatementVersion | None:
    """Accept (a new version with the paragraph replaced) or reject an amendment;
    when accepted, tell whoever proposed it or commented on that paragraph."""
    version = services.decide_amendment(amendment, campaign, accept=accept, note=note, by=by)
    db.session.commit()
    if version:
        news = (
            f'An amendment to paragraph {amendment.paragraph} of "{campaign.title}" was accepted. '
            f"The statement is now version {version.number}."
        )
        for user_id in services.people_to_tell(amendment):
            tasks.send_amendment_news(campaign.id, user_id, amendment.id, news)
    return version

"""Background work for sign-off: invitations, chasers (by hand and on schedule),
news of voided signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from huey import crontab
from sqlalchemy import select

from campaign.directory.models import User
from campaign.drafting.models import Campaign, CampaignState
from campaign.extensions import db, huey
from campaign.signoff import notices, services
from campaign.tasks import app_context


def _load(campaign_id: int, user_id: int):
    return db.session.get(Campaign, campaign_id), db.session.get(User, user_id)


def invitation_key(campaign: Campaign, user_id: int) -> str:
    return f"signoff-invite:{campaign.id}:{campaign.frozen_version_id}:{user_id}"


@huey.task(retries=3, retry_delay=60)
def send_invitation(campaign_id: int, user_id: int) -> None:
    with app_context():
        campaign, user = _load(campaign_id, user_id)
        if campaign and user and campaign.signoff_open():
            notices.invite(campaign, user, invitation_key(campaign, user.id))


@huey.task(retries=3, retry_delay=60)
def send_chaser(campaign_id: int, user_id: int, key: str) -> None:
    with app_context():
        campaign, user = _load(campaign_id, user_id)
        # Checked again here: a school may have answered since the chaser was queued.
        if (
            campaign
            and user
            and campaign.signoff_open()
            and services.is_chase_recipient(campaign, user.id)
        ):
            notices.invite(campaign, user, f"{key}:{user.id}", chaser=True)


@huey.task(retries=3, retry_delay=60)
def send_voided(campaign_id: int, user_id: int, key: str) -> None:
    with app_context():
        campaign, user = _load(campaign_id, user_id)
        if campaign and user:
            notices.voided(campaign, user, f"{key}:{user.id}")


def due_chasers(now: datetime) -> list[tuple[int, int, str]]:
    """(campaign id, user id, key) for every scheduled chaser due now and not yet sent."""
    due = []
    for campaign in db.session.scalars(
        select(Campaign).where(
            Campaign.state == CampaignState.SIGNOFF, Campaign.signoff_deadline.is_not(None)
        )
    ):
        if not campaign.signoff_open(now):
            continue
        for days in campaign.reminder_schedule:
            if campaign.signoff_deadline - timedelta(days=days) <= now:
                key = f"signoff-chaser:{campaign.id}:{campaign.frozen_version_id}:{days}d"
                due += [(campaign.id, uid, key) for uid in services.chase_recipients(campaign)]
                break  # only the nearest step: no burst of old steps at once
    return due


@huey.periodic_task(crontab(minute="*/15"))
def send_scheduled_chasers() -> None:
    with app_context():
        for campaign_id, user_id, key in due_chasers(datetime.now(UTC)):
            send_chaser(campaign_id, user_id, key)

"""Sending in the background: the page saves the outbox, then queues only ids."""

from __future__ import annotations

from datetime import UTC, datetime

from huey import crontab
from sqlalchemy import select

from campaign.delivery.models import Channel, Message, MessageState
from campaign.delivery.sending import send_ready
from campaign.extensions import db, huey
from campaign.letters.models import Audience
from campaign.tasks import app_context


@huey.task()
def send_campaign_messages(campaign_id: int, audience: str) -> None:
    """Send what is ready now; a second run at once is harmless. Messages waiting to
    retry are left to `resume_sending`, so a throttled send never holds a worker."""
    with app_context():
        send_ready(campaign_id, Audience(audience), wait=False)


def dao_campaigns_with_due_messages(now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(Message.campaign_id)
            .where(
                Message.channel == Channel.EMAIL,
                Message.state == MessageState.CREATED,
                Message.next_attempt.is_(None) | (Message.next_attempt <= now),
            )
            .distinct()
        )
    )


@huey.periodic_task(crontab(minute="*"))
def resume_sending() -> None:
    """Pick up messages whose sender stopped (a worker restarted while they waited to
    retry): send what is due now; the next minute takes the rest."""
    with app_context():
        for campaign_id in dao_campaigns_with_due_messages(datetime.now(UTC)):
            send_ready(campaign_id, wait=False)

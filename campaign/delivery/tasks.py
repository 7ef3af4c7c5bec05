"""Sending in the background: the page saves the outbox, then queues only ids."""

from __future__ import annotations

from campaign.delivery.sending import send_ready
from campaign.extensions import huey
from campaign.letters.models import Audience
from campaign.tasks import app_context


@huey.task()
def send_campaign_messages(campaign_id: int, audience: str) -> None:
    """Send what is ready and wait out retries; a second run at once is harmless."""
    with app_context():
        send_ready(campaign_id, Audience(audience))

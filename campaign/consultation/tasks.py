"""Background work for consultations: invitations, reminders, amendment news."""

from campaign.consultation import notices
from campaign.consultation.services import invitation_key
from campaign.directory.models import User
from campaign.drafting.models import Campaign
from campaign.extensions import db, huey
from campaign.tasks import app_context


def _load(campaign_id: int, user_id: int):
    return db.session.get(Campaign, campaign_id), db.session.get(User, user_id)


@huey.task(retries=3, retry_delay=60)
def send_invitation(campaign_id: int, user_id: int) -> None:
    with app_context():
        campaign, user = _load(campaign_id, user_id)
        if campaign and user and campaign.current_version:
            notices.invite(campaign, user, invitation_key(campaign, user.id))


@huey.task(retries=3, retry_delay=60)
def send_reminder(campaign_id: int, user_id: int, batch: str) -> None:
    with app_context():
        campaign, user = _load(campaign_id, user_id)
        if campaign and user and campaign.consultation_open():
            notices.invite(
                campaign, user, f"consultation-reminder:{batch}:{user.id}", reminder=True
            )


@huey.task(retries=3, retry_delay=60)
def send_amendment_news(campaign_id: int, user_id: int, amendment_id: int, summary: str) -> None:
    with app_context():
        campaign, user = _load(campaign_id, user_id)
        if campaign and user:
            notices.amendment_decided(
                campaign, user, f"amendment-decided:{amendment_id}:{user.id}", summary
            )

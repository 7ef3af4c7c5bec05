"""Background work for sign-in: mailing happens off the request, so the answer
and its timing do not reveal whether an address is known."""

from campaign.auth import services
from campaign.extensions import huey
from campaign.tasks import app_context


@huey.task(retries=3, retry_delay=30)
def send_sign_in_link(email: str, next_path: str = "") -> bool:
    with app_context():
        return services.send_sign_in_link(email, next_path)

"""Background work for the register: imports uploaded on the page."""

from campaign.directory import imports
from campaign.extensions import huey
from campaign.tasks import app_context


@huey.task()
def run_import_job(job_id: int) -> None:
    with app_context():
        imports.run_import_job(job_id)

"""The directory's step: import a register or roster upload in the background.

Like every step (ARCHITECTURE.md, "The commit rule"), it saves and commits, and
only then queues the job by id, so the worker finds the upload it is given.
"""

from __future__ import annotations

from campaign.directory import tasks
from campaign.directory.imports import create_import_job
from campaign.directory.models import Association, ImportJob, User
from campaign.extensions import db


def start_import(
    association: Association, user: User, kind: str, filename: str, data: bytes, **options
) -> ImportJob:
    """Save the upload as a queued import ("register" or "roster") and queue it."""
    job = create_import_job(association, user, kind, filename, data, **options)
    db.session.commit()
    tasks.run_import_job(job.id)
    return job

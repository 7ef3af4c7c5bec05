"""Imports uploaded on the page run in the background, with progress a page can poll."""

from __future__ import annotations

import logging

from sqlalchemy import select

from campaign.directory.csvfile import ImportRefused
from campaign.directory.models import Association, ImportJob, ImportState, User
from campaign.directory.register import import_register
from campaign.directory.roster import import_roster
from campaign.extensions import db, huey

log = logging.getLogger(__name__)


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def create_import_job(
    association: Association, user: User, kind: str, filename: str, data: bytes, **options
) -> ImportJob:
    """Save an upload as a queued import. The caller commits, then queues its id."""
    job = ImportJob(
        association_id=association.id,
        created_by_id=user.id,
        kind=kind,
        filename=filename[:255],
        data=data,
        options=options,
        rows_expected=_data_rows(data),
    )
    db.session.add(job)
    return job


def _data_rows(data: bytes) -> int:
    """Physical lines after the header: the row count, bar quoted line breaks."""
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return max(lines - 1, 0)


def run_import_job(job_id: int) -> None:
    """Run a queued import in one transaction; its outcome commits with its data."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.state is not ImportState.QUEUED:
        return  # already run (a retry, or a second worker): nothing to do
    job.start()
    db.session.commit()
    association = db.session.get(Association, job.association_id)

    def progress(rows: int) -> None:
        huey.put(_progress_key(job_id), rows)

    try:
        if job.kind == "register":
            summary = import_register(
                association,
                job.data,
                phase=job.options.get("phase") or None,
                local_authorities=job.options.get("local_authorities") or (),
                progress=progress,
            )
        else:
            summary = import_roster(association, job.data, progress=progress)
    except ImportRefused as exc:
        db.session.rollback()
        job.finish(ImportState.REFUSED, error=f"{exc} Nothing was imported.")
    except Exception:
        log.exception("import %s failed", job_id)
        db.session.rollback()
        job.finish(
            ImportState.FAILED,
            error="The import stopped because of an error on our side. Nothing was imported.",
        )
    else:
        job.finish(ImportState.DONE, summary=summary.as_dict())
    db.session.commit()
    huey.get(_progress_key(job_id))  # reading without peek removes it


def import_status(job: ImportJob) -> dict:
    """What the progress page shows, as JSON."""
    read = job.summary["read"] if job.summary else huey.get(_progress_key(job.id), peek=True)
    return {
        "state": job.state.value,
        "finished": job.is_finished,
        "read": read or 0,
        "expected": job.rows_expected,
        "summary": job.summary,
        "error": job.error,
    }


def dao_import_job(association_id: int, job_id: int) -> ImportJob | None:
    return db.session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.association_id == association_id)
    )


def dao_recent_import_jobs(association_id: int, limit: int = 10) -> list[ImportJob]:
    return list(
        db.session.scalars(
            select(ImportJob)
            .where(ImportJob.association_id == association_id)
            .order_by(ImportJob.id.desc())
            .limit(limit)
        )
    )

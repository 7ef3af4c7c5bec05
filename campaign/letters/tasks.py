"""Rendering a campaign's letters on the workers: a plan, then a task for each
chunk, taken by whichever worker is free (see runs.py). Progress is in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from huey import crontab

from campaign.extensions import db, huey
from campaign.letters import packs, runs
from campaign.letters.services import LettersError
from campaign.tasks import app_context

FAILED = "An error on our side stopped the letters. Nothing was sent; try again."


@huey.task()
def plan_render(run_id: int) -> None:
    """Write the run's chunks, then queue each (after the commit: the commit rule)."""
    with app_context():
        run = runs.start_plan(run_id)
        if run is None:  # replaced by a newer run, or planned already
            return
        try:
            chunk_ids = runs.plan(run)
        except LettersError as exc:
            runs.fail(run_id, str(exc))
            return
        except Exception:
            # Never leave the page waiting on a job that has died; Huey logs the traceback.
            runs.fail(run_id, FAILED)
            raise
        for chunk_id in chunk_ids:
            render_chunk(chunk_id)


@huey.task()
def render_chunk(chunk_id: int) -> None:
    with app_context(), runs.worker_executor() as executor:
        runs.work([chunk_id], executor)


@huey.periodic_task(crontab(minute="*"))
def resume_rendering() -> None:
    """Queue again the chunks and plans whose worker died (their lease ran out)."""
    with app_context():
        now = datetime.now(UTC)
        for chunk_id in runs.dao_expired_chunks(now):
            render_chunk(chunk_id)
        for run_id in runs.dao_lost_plans(now):
            plan_render(run_id)
        db.session.rollback()


@huey.task()
def build_print_pack(pack_id: int) -> None:
    """Build the pack, if it is still queued (a task run twice builds once)."""
    with app_context():
        packs.build_queued(pack_id)


def read_progress(campaign_id: int, audience: str) -> dict | None:
    return runs.read_progress(campaign_id, runs.Audience(audience))

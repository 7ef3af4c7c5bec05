"""Rendering a campaign's letters in the background, with progress a page can poll."""

from __future__ import annotations

import time

from campaign.drafting.models import Campaign
from campaign.extensions import db, huey
from campaign.letters.models import Audience
from campaign.letters.services import LettersError, render_letters
from campaign.tasks import app_context


def progress_key(campaign_id: int, audience: str) -> str:
    return f"letters-progress:{campaign_id}:{audience}"


def read_progress(campaign_id: int, audience: str) -> dict | None:
    return huey.get(progress_key(campaign_id, audience), peek=True)


def _write(campaign_id: int, audience: str, **state) -> None:
    # `updated` lets the page tell a job that is working from one whose worker died.
    huey.put(progress_key(campaign_id, audience), {**state, "updated": time.time()})


def mark_queued(campaign_id: int, audience: str) -> None:
    """Record that a render was asked for, so the page shows it before a worker starts."""
    _write(campaign_id, audience, state="queued", done=0, total=0, queued=time.time())


@huey.task()
def render_campaign_letters(campaign_id: int, audience: str) -> None:
    with app_context():
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            return
        started = time.time()
        _write(campaign_id, audience, state="running", done=0, total=0, started=started)

        def progress(done: int, total: int) -> None:
            _write(campaign_id, audience, state="running", done=done, total=total, started=started)

        try:
            summary = render_letters(campaign, Audience(audience), progress=progress)
        except LettersError as exc:
            _write(campaign_id, audience, state="failed", error=str(exc), started=started)
            return
        except Exception:
            # Never leave the page waiting on a job that has died; Huey logs the traceback.
            db.session.rollback()
            _write(
                campaign_id,
                audience,
                state="failed",
                error="An error on our side stopped the letters. Nothing was sent; try again.",
                started=started,
            )
            raise
        _write(
            campaign_id,
            audience,
            state="done",
            done=summary.total,
            total=summary.total,
            rendered=summary.rendered,
            unchanged=summary.unchanged,
            failing=summary.failing,
            started=started,
            seconds=summary.seconds,
        )

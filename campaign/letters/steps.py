"""Letters' step in a campaign's lifecycle: render an audience's letters.

The page saves a run and queues its plan, and the workers render its chunks
(runs.py); the command line renders in the foreground with runs.render_letters,
the same run worked by the caller.
"""

from __future__ import annotations

from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters import runs, tasks
from campaign.letters.models import Audience


def render(campaign: Campaign, audience: Audience) -> None:
    """Save a run for the audience's letters (the page shows it queued at once) and
    queue its plan."""
    run = runs.new_run(campaign, audience)
    db.session.commit()
    tasks.plan_render(run.id)

"""Letters' step in a campaign's lifecycle: render an audience's letters.

The page queues the job and the workers render it (committing per batch, so the
page can show progress); the command line renders in the foreground with
letters.services.render_letters, the same work without the queue.
"""

from __future__ import annotations

from campaign.drafting.models import Campaign
from campaign.letters import tasks
from campaign.letters.models import Audience


def render(campaign: Campaign, audience: Audience) -> None:
    """Queue the audience's letters to render."""
    # Marked queued before the job is, so the page shows it at once and a fast job
    # overwrites it.
    tasks.mark_queued(campaign.id, audience.value)
    tasks.render_campaign_letters(campaign.id, audience.value)

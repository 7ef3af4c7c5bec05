"""Letters' steps in a campaign's lifecycle: render an audience's letters, and
build a print pack of them.

The page saves a run and queues its plan, and the workers render its chunks
(runs.py); the command line renders in the foreground with runs.render_letters,
the same run worked by the caller. A print pack is saved, then built by a worker
(packs.py).
"""

from __future__ import annotations

from sqlalchemy import Row

from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters import packs, runs, tasks
from campaign.letters.models import Audience, PackKind, PrintPack


def render(campaign: Campaign, audience: Audience) -> None:
    """Save a run for the audience's letters (the page shows it queued at once) and
    queue its plan."""
    run = runs.new_run(campaign, audience)
    db.session.commit()
    tasks.plan_render(run.id)


def build_pack(
    campaign: Campaign,
    audience: Audience,
    kind: PackKind,
    letters: list[Row],
    *,
    in_background: bool = True,
) -> PrintPack | None:
    """Save a print pack of `letters` ((id, sha256), in pack order) and build it: by
    a worker, or by the caller when not `in_background` (the command line). None,
    building nothing, if it is being built or is ready as the letters are."""
    pack = packs.request_pack(campaign.id, audience, kind, letters)
    db.session.commit()
    if pack is None:
        return None
    if in_background:
        tasks.build_print_pack(pack.id)
    else:
        packs.build_queued(pack.id)
    return pack

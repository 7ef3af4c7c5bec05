"""Delivery's steps in a campaign's lifecycle: send an audience its letters, and
the lead's decisions about what did not arrive.

Each step is what the page, the command line and the tests call: it saves, commits,
and only then queues the sending, so the worker finds every message it is asked to
send (ARCHITECTURE.md, "The commit rule").
"""

from __future__ import annotations

from flask import current_app

from campaign.delivery import services, tasks
from campaign.delivery.outbox import Planned, build_outbox
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience


def send(
    campaign: Campaign, audience: Audience, *, in_background: bool = True
) -> tuple[Planned, int]:
    """Save the audience's outbox (each message once, however often this runs) and
    send it: by the workers, or by the caller itself when not `in_background` (the
    command line, which shows its own progress). Returns the plan and how many
    messages were new."""
    planned, added = build_outbox(campaign, audience)
    db.session.commit()
    if in_background:
        _queue_senders(campaign, audience)
    return planned, added


def retry_failed(campaign: Campaign, audience: Audience) -> int:
    """Failed emails go back to the queue; returns how many."""
    return _send_again(campaign, audience, services.retry_failed(campaign.id, audience))


def send_in_doubt_again(campaign: Campaign, audience: Audience) -> int:
    """Emails in doubt go back to the queue (the lead's decision); returns how many."""
    return _send_again(campaign, audience, services.send_in_doubt_again(campaign.id, audience))


def mark_posted(campaign: Campaign, audience: Audience) -> int:
    """The post pack's letters are recorded as posted; returns how many."""
    moved = services.mark_posted(campaign.id, audience)
    db.session.commit()
    return moved


def _send_again(campaign: Campaign, audience: Audience, moved: int) -> int:
    db.session.commit()
    if moved:
        _queue_senders(campaign, audience)
    return moved


def _queue_senders(campaign: Campaign, audience: Audience) -> None:
    # Several senders drain the one outbox together (each claim is theirs alone), so a
    # send spreads over the workers, and a worker that dies leaves the others sending.
    for _ in range(current_app.config["SEND_TASKS"]):
        tasks.send_campaign_messages(campaign.id, audience.value)

"""Creating campaigns, saving statement versions, and moving a campaign on."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from campaign.directory.models import Association, User
from campaign.drafting import text
from campaign.drafting.models import Campaign, CampaignState, StatementVersion
from campaign.extensions import db

EDITABLE = {CampaignState.DRAFT, CampaignState.CONSULTATION}


class TextFrozen(Exception):
    """The statement cannot change in the campaign's current state."""


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80] or "campaign"


def create_campaign(
    association: Association,
    title: str,
    *,
    summary: str = "",
    to_parents: bool = True,
    to_mps: bool = True,
    consultation_deadline: datetime | None = None,
    signoff_deadline: datetime | None = None,
    body: str = "",
    author: User | None = None,
) -> Campaign:
    """A new draft campaign with a slug unique in its association. The caller commits."""
    base = slugify(title)
    taken = set(
        db.session.scalars(
            select(Campaign.slug).where(
                Campaign.association_id == association.id, Campaign.slug.startswith(base)
            )
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    campaign = Campaign(
        association=association,
        slug=slug,
        title=title.strip(),
        summary=summary.strip(),
        to_parents=to_parents,
        to_mps=to_mps,
        consultation_deadline=consultation_deadline,
        signoff_deadline=signoff_deadline,
        state=CampaignState.DRAFT,
    )
    db.session.add(campaign)
    if body.strip():
        save_statement(campaign, body, author)
    return campaign


def save_statement(
    campaign: Campaign, body: str, author: User | None, note: str = ""
) -> StatementVersion | None:
    """Save the text as a new version if it changed; None if it did not. The caller commits.

    Raises TextFrozen once the campaign is in sign-off or later, and
    text.StatementTooLong for an oversized text.
    """
    if campaign.state not in EDITABLE:
        raise TextFrozen(
            f"The statement is frozen while the campaign is in {campaign.state.label.lower()}."
        )
    normalised = text.normalise(body)
    current = campaign.current_version
    if current is not None and current.body == normalised:
        return None
    version = StatementVersion(
        campaign=campaign,
        number=(current.number + 1) if current else 1,
        body=normalised,
        sha256=text.sha256(normalised),
        author=author,
        note=note[:500],
    )
    db.session.add(version)
    db.session.flush()
    return version


def dao_campaigns(association_id: int, *, drafts: bool = True) -> list[Campaign]:
    """The association's campaigns, newest first; without drafts if `drafts` is False."""
    stmt = select(Campaign).where(Campaign.association_id == association_id)
    if not drafts:
        stmt = stmt.where(Campaign.state != CampaignState.DRAFT)
    return list(
        db.session.scalars(
            stmt.options(selectinload(Campaign.versions)).order_by(
                Campaign.created.desc(), Campaign.id.desc()
            )
        )
    )


def dao_campaign(association_id: int, slug: str, *, drafts: bool = True) -> Campaign | None:
    """The association's campaign with this slug; None for any other association's,
    and None for a draft if `drafts` is False."""
    stmt = (
        select(Campaign)
        .where(Campaign.association_id == association_id, Campaign.slug == slug)
        .options(joinedload(Campaign.frozen_version))  # most campaign pages show it
    )
    if not drafts:
        stmt = stmt.where(Campaign.state != CampaignState.DRAFT)
    return db.session.scalar(stmt)


def dao_version(campaign_id: int, number: int) -> StatementVersion | None:
    return db.session.scalar(
        select(StatementVersion).where(
            StatementVersion.campaign_id == campaign_id, StatementVersion.number == number
        )
    )


def dao_version_count(campaign_id: int) -> int:
    return (
        db.session.scalar(select(func.count()).where(StatementVersion.campaign_id == campaign_id))
        or 0
    )

"""What every campaign command shares: finding the campaign a command names."""

from __future__ import annotations

import click
from sqlalchemy import select

from campaign.directory.cli import association_or_fail
from campaign.drafting.models import Campaign
from campaign.extensions import db

association_option = click.option(
    "--association", "slug", help="Needed only if two associations use the slug."
)


def campaign_or_fail(campaign_slug: str, slug: str | None) -> Campaign:
    """The campaign with this slug (in this association, if given), or a clear error."""
    stmt = select(Campaign).where(Campaign.slug == campaign_slug)
    if slug:
        stmt = stmt.where(Campaign.association_id == association_or_fail(slug).id)
    found = db.session.scalars(stmt).all()
    if not found:
        raise click.ClickException(f'No campaign has the slug "{campaign_slug}".')
    if len(found) > 1:
        raise click.ClickException("Several associations use that slug: add --association.")
    return found[0]

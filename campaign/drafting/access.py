"""Campaign pages live under /a/<slug>/campaigns/<cslug>/: load the campaign of
the signed-in user's association, or 404. A draft exists only for the lead: to
anyone else it is 404, as if it did not exist, until consultation opens."""

from __future__ import annotations

from flask import Blueprint, abort, g

from campaign.directory.access import scope_to_association
from campaign.directory.models import Membership, Role
from campaign.drafting.models import Campaign
from campaign.drafting.services import dao_campaign


def sees_drafts(membership: Membership) -> bool:
    """Leads write the drafts; heads and viewers first see a campaign in consultation."""
    return membership.role is Role.LEAD


def visible_campaign(cslug: str) -> Campaign | None:
    """The signed-in member's campaign with this slug, if they may see it."""
    return dao_campaign(g.association.id, cslug, drafts=sees_drafts(g.membership))


def scope_to_campaign(bp: Blueprint) -> None:
    """Scope every route of the blueprint (prefixed /a/<slug>/campaigns/<cslug>)."""
    scope_to_association(bp)

    @bp.url_value_preprocessor
    def pull_cslug(endpoint, values):
        g.cslug = values.pop("cslug")

    @bp.url_defaults
    def add_cslug(endpoint, values):
        if "cslug" not in values and "cslug" in g:
            values["cslug"] = g.cslug

    @bp.before_request
    def load_campaign():
        g.campaign = visible_campaign(g.cslug)
        if g.campaign is None:
            abort(404)

"""Campaign pages live under /a/<slug>/campaigns/<cslug>/: load the campaign of
the signed-in user's association, or 404."""

from __future__ import annotations

from flask import Blueprint, abort, g

from campaign.directory.access import scope_to_association
from campaign.drafting.services import dao_campaign


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
        g.campaign = dao_campaign(g.association.id, g.cslug)
        if g.campaign is None:
            abort(404)

"""The wall between associations: every page under /a/<slug>/ loads the signed-in
user's membership of that association or answers 404."""

from __future__ import annotations

from flask import Blueprint, abort, g
from flask_login import current_user

from campaign.directory.models import Headship, Role, School
from campaign.directory.services import dao_headship
from campaign.extensions import login_manager


def scope_to_association(bp: Blueprint) -> None:
    """Make every route of the blueprint (prefixed /a/<slug>) association-scoped."""

    @bp.url_value_preprocessor
    def pull_slug(endpoint, values):
        g.slug = values.pop("slug")

    @bp.url_defaults
    def add_slug(endpoint, values):
        if "slug" not in values and "slug" in g:
            values["slug"] = g.slug

    @bp.before_request
    def load_membership():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        # The user was loaded with their memberships (services.dao_user).
        memberships = current_user.memberships
        g.membership = next((m for m in memberships if m.association.slug == g.slug), None)
        if g.membership is None:
            abort(404)
        g.association = g.membership.association
        return None


def require(*roles: Role) -> None:
    """403 unless the user's role in this association is one of these."""
    if g.membership.role not in roles:
        abort(403)


def headship_or_404(urn: int) -> tuple[School, Headship]:
    """The school with this URN and the signed-in user's headship of it, or 404: a
    school someone does not lead is, to them, as if it did not exist."""
    found = dao_headship(g.association.id, current_user.id, urn)
    if found is None:
        abort(404)
    return found

"""The association's home page, the campaign list and a campaign's hub page."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask_login import current_user

from campaign.consultation import services as consultation
from campaign.consultation.evidence import dao_questions
from campaign.directory.access import scope_to_association
from campaign.directory.models import Role
from campaign.directory.services import dao_counts, dao_schools_led_by
from campaign.drafting.access import sees_drafts, visible_campaign
from campaign.drafting.models import CampaignState
from campaign.drafting.services import dao_campaigns
from campaign.overview.status import campaign_status
from campaign.signoff.progress import progress

bp = Blueprint("overview", __name__, url_prefix="/a/<slug>")
scope_to_association(bp)


@bp.get("/")
def home():
    association_id = g.association.id
    my_schools = dao_schools_led_by(association_id, current_user.id)
    counts = None
    if g.membership.role in (Role.LEAD, Role.VIEWER):
        counts = dao_counts(association_id)
    found = dao_campaigns(association_id, drafts=sees_drafts(g.membership))
    # The lead and viewers see where each campaign stands; the lead, what to do next.
    statuses = [campaign_status(c) for c in found] if counts is not None else []
    return render_template(
        "overview/home.html",
        my_schools=my_schools,
        counts=counts,
        campaigns=[c for c in found if c.state is not CampaignState.DRAFT],
        statuses=statuses,
    )


@bp.get("/campaigns/")
def campaigns():
    found = dao_campaigns(g.association.id, drafts=sees_drafts(g.membership))
    return render_template("overview/campaigns.html", campaigns=found)


@bp.get("/campaigns/<cslug>/")
def campaign(cslug: str):
    found = visible_campaign(cslug)
    if found is None:
        abort(404)  # a draft, to anyone but the lead, does not exist
    if g.membership.role is Role.HEAD:
        in_signoff = found.state in (CampaignState.SIGNOFF, CampaignState.CLOSED)
        return redirect(
            url_for("signoff.schools" if in_signoff else "consultation.respond", cslug=cslug)
        )
    return render_template(
        "overview/campaign.html",
        campaign=found,
        version=found.current_version,
        questions=dao_questions(found.id),
        tally=consultation.tally(found) if found.state is not CampaignState.DRAFT else None,
        signoff_progress=progress(found) if found.frozen_version_id else None,
    )

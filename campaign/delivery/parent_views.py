"""A school's parents' list: its heads (or the lead) upload it, once signed."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from campaign.bounds import upload_limit
from campaign.delivery.forms import ParentListForm
from campaign.delivery.parents import (
    MAX_LIST_BYTES,
    dao_parent_list,
    dao_parents_sent,
    save_parent_list,
)
from campaign.directory.access import headship_or_404
from campaign.directory.csvfile import ImportRefused
from campaign.directory.models import Role, School
from campaign.directory.services import dao_member_school
from campaign.drafting.access import scope_to_campaign
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.signoff.services import dao_signature

bp = Blueprint("parents", __name__, url_prefix="/a/<slug>/campaigns/<cslug>/parents")
scope_to_campaign(bp)

OPEN = (CampaignState.SIGNOFF, CampaignState.CLOSED, CampaignState.SENT)


def _school(urn: int) -> School:
    """The school, if the user leads it (or is the association's lead)."""
    if g.membership.role is not Role.LEAD:
        return headship_or_404(urn)[0]
    row = dao_member_school(g.association.id, urn)
    if row is None:
        abort(404)
    return row.school


def _closed_reason(school: School) -> str:
    """Why no list can be uploaded for the school now, or "" if one can."""
    campaign = g.campaign
    signature = dao_signature(campaign.id, school.id)
    if campaign.state not in OPEN or signature is None or not signature.counts:
        return f"{school.name} can upload a parents' list once it has signed."
    if dao_parents_sent(campaign.id):
        return "The parents' letters have been sent: a list can no longer be added."
    return ""


@bp.route("/<int:urn>", methods=["GET", "POST"])
@upload_limit(MAX_LIST_BYTES + 64 * 1024)  # the file, and the form around it
def upload(urn: int):
    campaign = g.campaign
    school = _school(urn)
    closed = _closed_reason(school)
    form = ParentListForm()
    error = None
    if request.method == "POST" and closed:
        error = closed
    elif not closed and form.validate_on_submit():
        try:
            saved = save_parent_list(campaign, school, current_user, form.file.data.read())
        except ImportRefused as exc:
            db.session.rollback()
            error = f"{exc} Nothing was saved."
        else:
            db.session.commit()
            flash(f"{saved.count:,} addresses saved for {school.name}.")
            return redirect(url_for("parents.upload", urn=urn))
    return render_template(
        "delivery/parents.html",
        campaign=campaign,
        school=school,
        parent_list=dao_parent_list(campaign.id, school.id),
        form=form,
        error=error,
        closed=closed,
    )

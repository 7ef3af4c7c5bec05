"""The lead's drafting pages: create a campaign, write the statement, read and
compare its versions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from campaign.bounds import id_arg
from campaign.directory.access import require, scope_to_association
from campaign.directory.models import Role
from campaign.drafting import services, text
from campaign.drafting.access import visible_campaign
from campaign.drafting.forms import CampaignForm, StatementForm
from campaign.extensions import db

bp = Blueprint("drafting", __name__, url_prefix="/a/<slug>/campaigns")
scope_to_association(bp)


@bp.before_request
def hide_drafts():
    """A draft is 404 to all but the lead before any role is checked, so a head
    cannot tell it exists."""
    cslug = (request.view_args or {}).get("cslug")
    if cslug is not None and visible_campaign(cslug) is None:
        abort(404)


def campaign_or_404(cslug: str):
    campaign = visible_campaign(cslug)
    if campaign is None:
        abort(404)
    return campaign


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(Role.LEAD)
    form = CampaignForm()
    if form.validate_on_submit():
        campaign = services.create_campaign(
            g.association,
            form.title.data,
            summary=form.summary.data or "",
            to_parents=form.to_parents.data,
            to_mps=form.to_mps.data,
            consultation_deadline=form.consultation_deadline.data,
            signoff_deadline=form.signoff_deadline.data,
        )
        db.session.commit()
        flash("Campaign created. Now write the statement.")
        return redirect(url_for("drafting.statement", cslug=campaign.slug))
    return render_template("drafting/new.html", form=form), 400 if form.errors else 200


@bp.route("/<cslug>/statement", methods=["GET", "POST"])
def statement(cslug: str):
    require(Role.LEAD)
    campaign = campaign_or_404(cslug)
    current = campaign.current_version
    form = StatementForm(data={"body": current.body if current else ""})
    error = None
    if form.validate_on_submit():
        try:
            version = services.save_statement(
                campaign, form.body.data, current_user, form.note.data or ""
            )
            db.session.commit()
        except (services.TextFrozen, text.StatementTooLong) as exc:
            db.session.rollback()
            error = str(exc)
        except IntegrityError:  # someone else saved a version at the same moment
            db.session.rollback()
            error = "Someone else saved the statement at the same time. Reload and try again."
        else:
            flash(f"Saved as version {version.number}." if version else "No changes to save.")
            return redirect(url_for("overview.campaign", cslug=cslug))
    status = 400 if form.errors or error else 200
    return render_template(
        "drafting/statement.html", campaign=campaign, form=form, error=error
    ), status


@bp.get("/<cslug>/versions")
def versions(cslug: str):
    require(Role.LEAD, Role.VIEWER)
    campaign = campaign_or_404(cslug)
    return render_template("drafting/versions.html", campaign=campaign)


@bp.get("/<cslug>/compare")
def compare(cslug: str):
    require(Role.LEAD, Role.VIEWER)
    campaign = campaign_or_404(cslug)
    old = services.dao_version(campaign.id, request.args.get("a", 0, type=id_arg))
    new = services.dao_version(campaign.id, request.args.get("b", 0, type=id_arg))
    if old is None or new is None:
        abort(404)
    return render_template(
        "drafting/compare.html",
        campaign=campaign,
        old=old,
        new=new,
        rows=text.diff(old.body, new.body),
    )


@bp.get("/<cslug>/v/<int:number>")
def version(cslug: str, number: int):
    campaign = campaign_or_404(cslug)
    found = services.dao_version(campaign.id, number)
    if found is None:
        abort(404)
    return render_template("drafting/version.html", campaign=campaign, version=found)

"""The lead's campaign pages: create, write and compare versions, open and close."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from campaign.bounds import id_arg
from campaign.consultation import services as consultation
from campaign.consultation import tasks as consultation_tasks
from campaign.consultation.evidence import add_question, dao_questions
from campaign.consultation.models import QuestionKind
from campaign.directory.access import require, scope_to_association
from campaign.directory.models import Role
from campaign.drafting import services, text
from campaign.drafting.access import sees_drafts, visible_campaign
from campaign.drafting.forms import CampaignForm, QuestionForm, StatementForm
from campaign.drafting.models import CampaignState, IllegalTransition
from campaign.extensions import db
from campaign.forms import ConfirmForm
from campaign.signoff.progress import progress

bp = Blueprint("campaigns", __name__, url_prefix="/a/<slug>/campaigns")
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


@bp.get("/")
def index():
    campaigns = services.dao_campaigns(g.association.id, drafts=sees_drafts(g.membership))
    return render_template("drafting/index.html", campaigns=campaigns)


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
        return redirect(url_for("campaigns.statement", cslug=campaign.slug))
    return render_template("drafting/new.html", form=form), 400 if form.errors else 200


@bp.get("/<cslug>/")
def show(cslug: str):
    campaign = campaign_or_404(cslug)
    if g.membership.role is Role.HEAD:
        in_signoff = campaign.state in (CampaignState.SIGNOFF, CampaignState.CLOSED)
        return redirect(
            url_for("signoff.schools" if in_signoff else "consultation.respond", cslug=cslug)
        )
    return render_template(
        "drafting/show.html",
        campaign=campaign,
        version=campaign.current_version,
        questions=dao_questions(campaign.id),
        tally=consultation.tally(campaign) if campaign.state is not CampaignState.DRAFT else None,
        signoff_progress=progress(campaign) if campaign.frozen_version_id else None,
    )


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
            return redirect(url_for("campaigns.show", cslug=cslug))
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


def _confirm(cslug: str, action: str, run):
    """A confirmation page (GET) whose button (POST) runs the transition."""
    require(Role.LEAD)
    campaign = campaign_or_404(cslug)
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            message = run(campaign)
        except (IllegalTransition, consultation.ConsultationError) as exc:
            db.session.rollback()
            error = str(exc)
        else:
            flash(message)
            return redirect(url_for("campaigns.show", cslug=cslug))
    heads = len(consultation.dao_head_ids(g.association.id))
    tally = consultation.tally(campaign) if action != "open" else None
    return render_template(
        "drafting/confirm.html",
        campaign=campaign,
        action=action,
        form=form,
        error=error,
        heads=heads,
        tally=tally,
    ), 409 if error else 200


@bp.route("/<cslug>/open", methods=["GET", "POST"])
def open_consultation(cslug: str):
    def run(campaign):
        head_ids = consultation.open_consultation(campaign)
        db.session.commit()
        for user_id in head_ids:  # saved first, then each invitation queued by id
            consultation_tasks.send_invitation(campaign.id, user_id)
        return f"The consultation is open. Invitations are going to {len(head_ids)} heads."

    return _confirm(cslug, "open", run)


@bp.route("/<cslug>/close-consultation", methods=["GET", "POST"])
def close_consultation(cslug: str):
    def run(campaign):
        consultation.close_consultation(campaign)
        db.session.commit()
        return "The consultation is closed. Answers can no longer change."

    return _confirm(cslug, "close", run)


@bp.route("/<cslug>/back-to-draft", methods=["GET", "POST"])
def back_to_draft(cslug: str):
    def run(campaign):
        campaign.move_to(CampaignState.DRAFT)
        db.session.commit()
        return "Back to drafting. Edit the statement, then open a new round of consultation."

    return _confirm(cslug, "draft", run)


@bp.route("/<cslug>/questions", methods=["GET", "POST"])
def questions(cslug: str):
    require(Role.LEAD)
    campaign = campaign_or_404(cslug)
    form = QuestionForm()
    if form.validate_on_submit():
        if campaign.state not in (CampaignState.DRAFT, CampaignState.CONSULTATION):
            flash("Questions can be added only before sign-off.")
        else:
            add_question(
                campaign,
                QuestionKind(form.kind.data),
                form.prompt.data,
                form.help.data or "",
                form.required.data,
            )
            db.session.commit()
            flash("Question added.")
        return redirect(url_for("campaigns.questions", cslug=cslug))
    return render_template(
        "drafting/questions.html",
        campaign=campaign,
        form=form,
        questions=dao_questions(campaign.id),
    ), 400 if form.errors else 200

"""Consultation pages: heads answer for their schools and comment on paragraphs;
the lead opens and closes the round, sets the evidence questions, sees the tally,
chases, decides amendments and reads the evidence."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from campaign.bounds import id_arg
from campaign.consultation import chasing, evidence, services, steps
from campaign.consultation.forms import (
    AmendmentForm,
    CommentForm,
    DecisionForm,
    QuestionForm,
    ReminderForm,
    answer_form,
)
from campaign.consultation.models import QuestionKind, StanceKind
from campaign.consultation.reminders import ReminderSentRecently, dao_last_reminder, recent
from campaign.consultation.summary import summary_csv
from campaign.directory.access import headship_or_404, require
from campaign.directory.models import Role
from campaign.directory.services import (
    dao_head_count,
    dao_local_authorities,
    dao_mps_for_members,
    dao_schools_led_by,
)
from campaign.downloads import attachment
from campaign.drafting import text
from campaign.drafting.access import scope_to_campaign
from campaign.drafting.confirm import confirm_step
from campaign.drafting.models import CampaignState
from campaign.drafting.services import dao_version
from campaign.extensions import db

bp = Blueprint("consultation", __name__, url_prefix="/a/<slug>/campaigns/<cslug>")
scope_to_campaign(bp)


# --- heads -----------------------------------------------------------------


@bp.get("/respond")
def respond():
    campaign = g.campaign
    version = campaign.current_version
    if version is None:
        abort(404)
    schools = dao_schools_led_by(g.association.id, current_user.id)
    stances = services.dao_latest_stances(campaign.id, [s.id for s in schools])
    return render_template(
        "consultation/respond.html",
        campaign=campaign,
        version=version,
        paragraphs=[text.to_html(p) for p in text.paragraphs(version.body)],
        schools=schools,
        stances=stances,
        is_open=campaign.consultation_open(),
    )


@bp.route("/respond/<int:urn>", methods=["GET", "POST"])
def answer(urn: int):
    campaign = g.campaign
    school, _ = headship_or_404(urn)
    questions = evidence.dao_questions(campaign.id)
    existing = evidence.dao_answers_for_school(campaign.id, school.id)
    latest = services.dao_latest_stances(campaign.id, [school.id]).get(school.id)
    initial = {f"q{q.id}": evidence.raw_value(q, existing.get(q.id)) for q in questions}
    if latest:
        initial.update(kind=latest.kind.value, reason=latest.reason)
    form = answer_form(questions, data=None if request.method == "POST" else initial)
    error = None
    if request.method == "POST":
        stance_valid = form.validate_on_submit()
        raw = {q.id: form[f"q{q.id}"].data or "" for q in questions}
        _, errors = evidence.check_answers(questions, raw)
        for qid, message in errors.items():  # every problem shown at once
            form[f"q{qid}"].errors = [message]
        if stance_valid and not errors:
            try:
                evidence.save_answers(campaign, school, current_user, raw)
                services.record_stance(
                    campaign,
                    school,
                    current_user,
                    StanceKind(form.kind.data),
                    form.reason.data or "",
                )
            except services.ConsultationError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                db.session.commit()
                flash(
                    f"Thank you. {school.name}'s answer is saved. "
                    "You can change it until the consultation closes."
                )
                return redirect(url_for("consultation.respond"))
    has_errors = bool(error or any(f.errors for f in form))
    return render_template(
        "consultation/answer.html",
        campaign=campaign,
        school=school,
        form=form,
        questions=questions,
        error=error,
        latest=latest,
        history=services.dao_stance_history(campaign.id, school.id),
        is_open=campaign.consultation_open(),
    ), 400 if has_errors and request.method == "POST" else 200


@bp.route("/v/<int:number>/p/<int:paragraph>", methods=["GET", "POST"])
def paragraph(number: int, paragraph: int):
    campaign = g.campaign
    version = dao_version(campaign.id, number)
    blocks = text.paragraphs(version.body) if version else []
    if not 1 <= paragraph <= len(blocks):
        abort(404)
    original = blocks[paragraph - 1]
    comment_form = CommentForm(prefix="comment")
    amendment_form = AmendmentForm(prefix="amend", data={"text": original})
    error = None
    if request.method == "POST" and g.membership.role is not Role.HEAD:
        abort(403)
    try:
        if comment_form.submit.data and comment_form.validate_on_submit():
            services.add_comment(campaign, version, paragraph, current_user, comment_form.body.data)
            db.session.commit()
            flash("Your comment is posted. The lead will see it next to this paragraph.")
            return redirect(url_for("consultation.paragraph", number=number, paragraph=paragraph))
        if amendment_form.submit.data and amendment_form.validate_on_submit():
            services.propose_amendment(
                campaign,
                version,
                paragraph,
                current_user,
                amendment_form.text.data,
                amendment_form.reason.data or "",
            )
            db.session.commit()
            flash("Your proposed change is sent to the lead, who will accept or reject it.")
            return redirect(url_for("consultation.paragraph", number=number, paragraph=paragraph))
    except services.ConsultationError as exc:
        db.session.rollback()
        error = str(exc)
    comments, amendments = services.dao_feedback(campaign.id)
    here = lambda item: item.version_id == version.id and item.paragraph == paragraph  # noqa: E731
    has_errors = bool(error or comment_form.errors or amendment_form.errors)
    return render_template(
        "consultation/paragraph.html",
        campaign=campaign,
        version=version,
        number=paragraph,
        html=text.to_html(original),
        comments=[c for c in comments if here(c)],
        amendments=[a for a in amendments if here(a)],
        comment_form=comment_form,
        amendment_form=amendment_form,
        error=error,
        is_open=campaign.consultation_open(),
    ), 400 if has_errors else 200


# --- the lead ----------------------------------------------------------------


def _confirm(action: str, step):
    return confirm_step(
        step,
        refusals=(services.ConsultationError,),
        done=lambda campaign: url_for("overview.campaign", cslug=campaign.slug),
        template="consultation/confirm.html",
        context=lambda campaign: {
            "action": action,
            "heads": dao_head_count(g.association.id),
            "tally": services.tally(campaign) if action != "open" else None,
        },
    )


@bp.route("/open", methods=["GET", "POST"])
def open_consultation():
    def run(campaign):
        head_ids = steps.open_consultation(campaign)
        return f"The consultation is open. Invitations are going to {len(head_ids)} heads."

    return _confirm("open", run)


@bp.route("/close-consultation", methods=["GET", "POST"])
def close_consultation():
    def run(campaign):
        steps.close_consultation(campaign)
        return "The consultation is closed. Answers can no longer change."

    return _confirm("close", run)


@bp.route("/back-to-draft", methods=["GET", "POST"])
def back_to_draft():
    def run(campaign):
        steps.back_to_draft(campaign)
        return "Back to drafting. Edit the statement, then open a new round of consultation."

    return _confirm("draft", run)


@bp.route("/questions", methods=["GET", "POST"])
def questions():
    require(Role.LEAD)
    campaign = g.campaign
    form = QuestionForm()
    if form.validate_on_submit():
        if campaign.state not in (CampaignState.DRAFT, CampaignState.CONSULTATION):
            flash("Questions can be added only before sign-off.")
        else:
            evidence.add_question(
                campaign,
                QuestionKind(form.kind.data),
                form.prompt.data,
                form.help.data or "",
                form.required.data,
            )
            db.session.commit()
            flash("Question added.")
        return redirect(url_for("consultation.questions"))
    return render_template(
        "consultation/questions.html",
        campaign=campaign,
        form=form,
        questions=evidence.dao_questions(campaign.id),
    ), 400 if form.errors else 200


@bp.get("/consultation")
def dashboard():
    require(Role.LEAD, Role.VIEWER)
    campaign = g.campaign
    la = request.args.get("la", "")
    constituency = request.args.get("constituency", "").upper()
    query = request.args.get("q", "").strip()
    comments, amendments = services.dao_feedback(campaign.id)
    questions = evidence.dao_questions(campaign.id)
    reminder_form = ReminderForm(
        data={"batch": services.new_batch(), "la": la, "constituency": constituency}
    )
    return render_template(
        "consultation/dashboard.html",
        campaign=campaign,
        tally=services.tally(campaign),
        reasons=services.dao_reasons(campaign.id, request.args.get("reasons", 1, type=id_arg)),
        non_responders=services.dao_non_responders(
            campaign,
            la=la,
            constituency=constituency,
            query=query,
            page=request.args.get("page", 1, type=id_arg),
        ),
        reminder_heads=services.dao_reminder_head_count(campaign, la=la, constituency=constituency),
        query=query,
        la=la,
        constituency=constituency,
        local_authorities=dao_local_authorities(g.association.id),
        constituencies=[row.constituency for row in dao_mps_for_members(g.association.id)],
        comments=comments,
        amendments=amendments,
        decision_form=DecisionForm(),
        reminder_form=reminder_form,
        last_reminder=dao_last_reminder(campaign.id),
        recent_reminder=recent(dao_last_reminder(campaign.id, la=la, constituency=constituency)),
        questions=questions,
        totals={
            q.id: {by: evidence.totals(campaign, q, by) for by in ("la", "constituency")}
            for q in questions
        },
        is_open=campaign.consultation_open(),
    )


@bp.post("/reminders")
def reminders():
    require(Role.LEAD)

    def chase(form: ReminderForm) -> list[int]:
        return steps.chase(
            g.campaign,
            batch=form.batch.data,
            la=form.la.data,
            constituency=form.constituency.data,
            by=current_user,
            confirm=form.confirm.data,
        )

    return chasing.remind(
        "consultation.dashboard",
        chase,
        recently=ReminderSentRecently,
        refused=services.ConsultationError,
    )


@bp.post("/amendments/<int:amendment_id>")
def decide(amendment_id: int):
    require(Role.LEAD)
    campaign = g.campaign
    amendment = services.dao_amendment(campaign.id, amendment_id)
    if amendment is None:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        version = steps.decide_amendment(
            amendment,
            campaign,
            accept=bool(form.accept.data),
            note=form.note.data or "",
            by=current_user,
        )
    except services.ConsultationError as exc:
        db.session.rollback()
        flash(str(exc))
        return redirect(url_for("consultation.dashboard", _anchor=f"amendment-{amendment_id}"))
    if version:
        flash(f"Amendment accepted: the statement is now version {version.number}.")
    else:
        flash("Amendment rejected.")
    return redirect(url_for("consultation.dashboard", _anchor=f"amendment-{amendment_id}"))


def _csv(body: str, name: str):
    return attachment(body, "text/csv", f"{g.campaign.slug}-{name}.csv")


@bp.get("/consultation/answers.csv")
def answers_csv():
    require(Role.LEAD, Role.VIEWER)
    return _csv(evidence.answers_csv(g.campaign), "evidence")


@bp.get("/consultation/summary.csv")
def summary():
    require(Role.LEAD, Role.VIEWER)
    return _csv(summary_csv(g.campaign), "consultation")

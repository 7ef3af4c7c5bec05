"""Sign-off pages: heads sign for their schools in three screens; the lead freezes,
watches progress, chases, closes; anyone can check a letter on the public page."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from campaign.bounds import id_arg
from campaign.consultation import chasing, reminders
from campaign.consultation.forms import ReminderForm
from campaign.consultation.services import new_batch
from campaign.directory.access import headship_or_404, require
from campaign.directory.models import Role
from campaign.directory.services import (
    dao_head_count,
    dao_local_authorities,
    dao_mps_for_members,
    dao_schools_led_by,
)
from campaign.downloads import attachment, csv_writer
from campaign.drafting import text
from campaign.drafting.access import scope_to_campaign
from campaign.drafting.confirm import confirm_step
from campaign.extensions import db
from campaign.forms import ConfirmForm
from campaign.signoff import services, steps
from campaign.signoff.forms import SettingsForm, SignForm
from campaign.signoff.models import Decision
from campaign.signoff.progress import progress

NEARBY = 30  # signing schools named on the sign page: those in the school's own LA

bp = Blueprint("signoff", __name__, url_prefix="/a/<slug>/campaigns/<cslug>")
scope_to_campaign(bp)


# --- heads ---------------------------------------------------------------------


@bp.get("/sign")
def schools():
    campaign = g.campaign
    mine = dao_schools_led_by(g.association.id, current_user.id)
    if len(mine) == 1 and campaign.signoff_open():
        return redirect(url_for("signoff.sign", urn=mine[0].urn))
    answers = {s.id: services.dao_signature(campaign.id, s.id) for s in mine}
    return render_template("signoff/schools.html", campaign=campaign, schools=mine, answers=answers)


@bp.route("/sign/<int:urn>", methods=["GET", "POST"])
def sign(urn: int):
    campaign = g.campaign
    school, headship = headship_or_404(urn)  # only its own head (or co-head) signs
    frozen = campaign.frozen_version
    form = SignForm(
        data={
            "name": current_user.name,
            "role": headship.job_title or "Headteacher",
            "version_sha256": frozen.sha256 if frozen else "",
            "decision": "signed",
        }
        if request.method == "GET"
        else None
    )
    error = None
    if form.validate_on_submit():
        try:
            steps.sign(
                campaign,
                school,
                current_user,
                decision=Decision(form.decision.data),
                name=form.name.data,
                role=form.role.data,
                comment=form.comment.data or "",
                shown_sha256=form.version_sha256.data or "",
                client=services.client_hash(
                    request.remote_addr or "", request.headers.get("User-Agent", "")
                ),
            )
        except services.AlreadyAnswered as exc:
            flash(str(exc))
            return redirect(url_for("signoff.done", urn=urn))
        except services.SignOffError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            return redirect(url_for("signoff.done", urn=urn))
    # Read only for the page: the step reads it again for itself.
    existing = services.dao_signature(campaign.id, school.id)
    return render_template(
        "signoff/sign.html",
        campaign=campaign,
        school=school,
        form=form,
        error=error,
        existing=existing if existing and existing.withdrawn is None else None,
        frozen=frozen,
        paragraphs=[text.to_html(p) for p in text.paragraphs(frozen.body)] if frozen else [],
        signed_count=services.dao_standing_count(campaign.id),
        nearby=services.dao_standing_nearby(campaign.id, school.local_authority, NEARBY),
        nearby_limit=NEARBY,
        is_open=campaign.signoff_open(),
    ), 400 if error or form.errors else 200


@bp.get("/sign/<int:urn>/done")
def done(urn: int):
    campaign = g.campaign
    school, _ = headship_or_404(urn)
    signature = services.dao_signature(campaign.id, school.id)
    if signature is None:
        return redirect(url_for("signoff.sign", urn=urn))
    others = [s for s in dao_schools_led_by(g.association.id, current_user.id) if s.id != school.id]
    return render_template(
        "signoff/done.html",
        campaign=campaign,
        school=school,
        signature=signature,
        others=[s for s in others if services.dao_signature(campaign.id, s.id) is None],
        form=ConfirmForm(),
    )


@bp.post("/sign/<int:urn>/withdraw")
def withdraw(urn: int):
    campaign = g.campaign
    school, _ = headship_or_404(urn)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        steps.withdraw(campaign, school, current_user)
    except services.SignOffError as exc:
        flash(str(exc))
        return redirect(url_for("signoff.done", urn=urn))
    flash(f"{school.name}'s answer is withdrawn. You can answer again until sign-off closes.")
    return redirect(url_for("signoff.sign", urn=urn))


# --- the lead ----------------------------------------------------------------------


def _confirm(action: str, step):
    return confirm_step(
        step,
        refusals=(services.SignOffError,),
        done=lambda campaign: url_for("signoff.dashboard"),
        template="signoff/confirm.html",
        context=lambda campaign: {
            "action": action,
            "heads": dao_head_count(g.association.id),
            "answers": services.dao_signature_count(campaign.id),
            "progress": progress(campaign),
        },
    )


@bp.route("/freeze", methods=["GET", "POST"])
def freeze():
    def run(campaign):
        user_ids = steps.freeze(campaign, current_user)
        return (
            f"Version {campaign.frozen_version.number} is frozen and sign-off is open. "
            f"Invitations are going to {len(user_ids)} heads."
        )

    return _confirm("freeze", run)


@bp.route("/reopen", methods=["GET", "POST"])
def reopen():
    def run(campaign):
        count, _ = steps.reopen(campaign, current_user)
        return f"The consultation is open again; {count} answers were voided and those heads told."

    return _confirm("reopen", run)


@bp.route("/close-signoff", methods=["GET", "POST"])
def close():
    def run(campaign):
        steps.close(campaign, current_user)
        return "Sign-off is closed. The signatures are final."

    return _confirm("close", run)


@bp.get("/signoff")
def dashboard():
    require(Role.LEAD, Role.VIEWER)
    campaign = g.campaign
    la = request.args.get("la", "")
    constituency = request.args.get("constituency", "").upper()
    query = request.args.get("q", "").strip()
    return render_template(
        "signoff/dashboard.html",
        campaign=campaign,
        progress=progress(campaign),
        unanswered=services.dao_unanswered(
            campaign,
            la=la,
            constituency=constituency,
            query=query,
            page=request.args.get("page", 1, type=id_arg),
        ),
        chase_heads=services.dao_chase_head_count(campaign, la=la, constituency=constituency),
        query=query,
        la=la,
        constituency=constituency,
        local_authorities=dao_local_authorities(g.association.id),
        constituencies=[row.constituency for row in dao_mps_for_members(g.association.id)],
        last_chase=services.dao_last_chase(campaign.id),
        recent_chase=reminders.recent(
            services.dao_last_chase(campaign.id, la=la, constituency=constituency)
        ),
        chase_form=ReminderForm(
            data={"batch": new_batch(), "la": la, "constituency": constituency}
        ),
        settings_form=SettingsForm(
            data={"reminder_days": campaign.reminder_days, "public_page": campaign.public_page}
        ),
        is_open=campaign.signoff_open(),
    )


@bp.post("/signoff/chase")
def chase():
    require(Role.LEAD)

    def send(form: ReminderForm) -> list[int]:
        return steps.chase(
            g.campaign,
            current_user,
            batch=form.batch.data,
            la=form.la.data,
            constituency=form.constituency.data,
            confirm=form.confirm.data,
        )

    return chasing.remind(
        "signoff.dashboard", send, recently=services.ChasedRecently, refused=services.SignOffError
    )


@bp.post("/signoff/settings")
def settings():
    require(Role.LEAD)
    campaign = g.campaign
    form = SettingsForm()
    if form.validate_on_submit():
        services.save_settings(
            campaign, current_user, reminder_days=form.days, public_page=form.public_page.data
        )
        db.session.commit()
        flash("Settings saved.")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors))
    return redirect(url_for("signoff.dashboard"))


@bp.get("/signoff/signatures.csv")
def signatures_csv():
    require(Role.LEAD, Role.VIEWER)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            "URN",
            "School",
            "Local authority",
            "Constituency code",
            "Decision",
            "Name",
            "Role",
            "Comment",
            "Signed at (UTC)",
            "Withdrawn at (UTC)",
            "Text SHA-256",
        ]
    )
    for s in services.dao_signatures(g.campaign.id):
        writer.writerow([
            s.school.urn, s.school.name, s.school.local_authority, s.school.constituency_code,
            s.decision.value, s.name, s.role, s.comment,
            s.created.isoformat(timespec="seconds"),
            s.withdrawn.isoformat(timespec="seconds") if s.withdrawn else "",
            s.version_sha256,
        ])  # fmt: skip
    return attachment(out.getvalue(), "text/csv", f"{g.campaign.slug}-signatures.csv")


@bp.get("/audit")
def audit_log():
    require(Role.LEAD)
    page = services.dao_audit_events(g.campaign.id, request.args.get("page", 1, type=id_arg))
    return render_template("signoff/audit.html", campaign=g.campaign, page=page)

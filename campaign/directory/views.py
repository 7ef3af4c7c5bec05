"""The association's register: member schools, heads, MPs, and imports.

Every route here sits under /a/<slug>/ and is scoped to that association; a
user who is not a member gets 404, exactly as if it did not exist.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from campaign.bounds import id_arg
from campaign.directory import services, steps
from campaign.directory.access import require, scope_to_association
from campaign.directory.forms import LetterheadForm, RegisterUploadForm, RosterUploadForm
from campaign.directory.imports import (
    dao_import_job,
    dao_recent_import_jobs,
    import_status,
)
from campaign.directory.letterhead import PNG, SVG, update_letterhead
from campaign.directory.models import Role
from campaign.extensions import db

bp = Blueprint("directory", __name__, url_prefix="/a/<slug>")


scope_to_association(bp)


@bp.get("/schools")
def schools():
    require(Role.LEAD, Role.VIEWER)
    la = request.args.get("la", "")
    query = request.args.get("q", "").strip()
    constituency = request.args.get("constituency", "").strip().upper()
    page = services.dao_member_schools(
        g.association.id,
        la=la,
        constituency=constituency,
        query=query,
        page=request.args.get("page", 1, type=id_arg),
    )
    return render_template(
        "directory/schools.html",
        page=page,
        la=la,
        query=query,
        constituency=constituency,
        local_authorities=services.dao_local_authorities(g.association.id),
    )


@bp.get("/schools/<int:urn>")
def school(urn: int):
    row = services.dao_member_school(g.association.id, urn)
    if row is None:
        abort(404)
    leads_it = any(h.user_id == current_user.id for h in row.heads)
    if g.membership.role == Role.HEAD and not leads_it:
        abort(404)
    return render_template("directory/school.html", row=row)


@bp.get("/mps")
def mps():
    require(Role.LEAD, Role.VIEWER)
    return render_template(
        "directory/mps.html", rows=services.dao_mps_for_members(g.association.id)
    )


@bp.get("/needs-attention")
def needs_attention():
    require(Role.LEAD, Role.VIEWER)
    return render_template(
        "directory/needs_attention.html",
        unknown_constituency=services.dao_schools_needing_attention(
            g.association.id, request.args.get("page", 1, type=id_arg)
        ),
        without_head=services.dao_schools_without_head(
            g.association.id, request.args.get("without_head_page", 1, type=id_arg)
        ),
    )


@bp.route("/imports", methods=["GET", "POST"])
def imports():
    require(Role.LEAD)
    register_form = RegisterUploadForm(prefix="register")
    roster_form = RosterUploadForm(prefix="roster")
    job = None
    if register_form.submit.data and register_form.validate_on_submit():
        upload = register_form.file.data
        las = [la.strip() for la in (register_form.local_authorities.data or "").split(",")]
        job = steps.start_import(
            g.association,
            current_user,
            "register",
            upload.filename or "",
            upload.read(),
            phase=(register_form.phase.data or "").strip(),
            local_authorities=[la for la in las if la],
        )
    elif roster_form.submit.data and roster_form.validate_on_submit():
        upload = roster_form.file.data
        job = steps.start_import(
            g.association, current_user, "roster", upload.filename or "", upload.read()
        )
    if job is not None:
        return redirect(url_for("directory.import_job", job_id=job.id))
    status = 400 if register_form.errors or roster_form.errors else 200
    return render_template(
        "directory/imports.html",
        register_form=register_form,
        roster_form=roster_form,
        jobs=dao_recent_import_jobs(g.association.id),
    ), status


def _job_or_404(job_id: int):
    require(Role.LEAD)
    job = dao_import_job(g.association.id, job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/imports/<int:job_id>")
def import_job(job_id: int):
    job = _job_or_404(job_id)
    return render_template("directory/import_job.html", job=job, status=import_status(job))


@bp.get("/imports/<int:job_id>.json")
def import_job_status(job_id: int):
    return jsonify(import_status(_job_or_404(job_id)))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require(Role.LEAD)
    association = g.association
    form = LetterheadForm(obj=association)
    if form.validate_on_submit():
        update_letterhead(
            association,
            name=form.name.data,
            address=form.address.data,
            email=form.email.data,
            cosignatory_limit=form.cosignatory_limit.data,
            accent=form.accent.data,
            logo=form.new_logo,
            remove_logo=form.remove_logo.data,
        )
        db.session.commit()
        flash("Letterhead saved. Render the letters again to use it.")
        return redirect(url_for("directory.settings"))
    return render_template(
        "directory/settings.html", form=form, association=association
    ), 400 if form.errors else 200


@bp.get("/settings/logo")
def settings_logo():
    """The current logo, for the preview on the Letterhead page."""
    require(Role.LEAD)
    association = g.association
    if not association.logo or association.logo_type not in (PNG, SVG):
        abort(404)
    response = Response(association.logo, mimetype=association.logo_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    if association.logo_type == SVG:
        # Opened on its own, an SVG is a document: nothing in it may run or load.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        )
    return response

"""Signing in by emailed link, signing out, and a person's own details."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from campaign.auth import services, tasks
from campaign.auth.forms import ConfirmSignInForm, DetailsForm, SignInForm
from campaign.directory.services import schools_led_anywhere
from campaign.extensions import limiter
from campaign.formatting import and_list

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
# Per client IP (the proxy's X-Forwarded-For when PROXY_COUNT is set). Not per
# email address, or anyone could lock its owner out: services.MAX_LIVE_LINKS caps
# what an address receives instead.
@limiter.limit("30 per hour", methods=["POST"])
def sign_in():
    form = SignInForm(
        data={"next": request.args.get("next", "")} if request.method == "GET" else None
    )
    if form.validate_on_submit():
        # Always queued, known address or not: same answer, same time.
        tasks.send_sign_in_link(form.email.data.strip().lower(), services.safe_next(form.next.data))
        return redirect(url_for("auth.check_email"))
    return render_template("auth/sign_in.html", form=form)


@bp.get("/sign-in/sent")
def check_email():
    return render_template("auth/check_email.html")


@bp.get("/sign-in/<token>")
def confirm(token: str):
    login_token = services.usable_token(token)
    if login_token is None:
        return render_template("auth/link_expired.html"), 410
    schools = schools_led_anywhere(login_token.user_id)
    # Each school once; its associations too when the person is in more than one.
    several = len({a for s in schools for a in s.associations}) > 1
    return render_template(
        "auth/confirm.html",
        form=ConfirmSignInForm(),
        user=login_token.user,
        schools=[f"{s.name} ({and_list(s.associations)})" if several else s.name for s in schools],
        job_title=schools[0].job_title if schools else "",
    )


@bp.post("/sign-in/<token>")
def consume(token: str):
    # CSRFProtect has already checked the form's token.
    login_token = services.consume_token(token)
    if login_token is None:
        return render_template("auth/link_expired.html"), 410
    services.start_session(login_token.user)
    # Checked again: a link issued before safe_next refused something must not slip by.
    return redirect(services.safe_next(login_token.next_path) or url_for("auth.index"))


@bp.post("/sign-out")
@login_required
def sign_out():
    services.end_sessions(current_user._get_current_object())
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.get("/")
def index():
    """Send a signed-in user to their association; everyone else to sign in."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    memberships = current_user.memberships
    if len(memberships) == 1:
        return redirect(url_for("overview.home", slug=memberships[0].association.slug))
    return render_template("auth/choose_association.html", memberships=memberships)


def _came_from() -> str:
    """Where to return after saving: ?next=, else the page of this app that linked here."""
    if next_path := request.args.get("next"):
        return services.safe_next(next_path)
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.path == request.path:
        return ""
    return services.safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@bp.route("/details", methods=["GET", "POST"])
@login_required
def details():
    """Name and role, as letters sign them: every signed-in person can set their own."""
    user = current_user._get_current_object()
    form = DetailsForm(obj=user, data={"next": _came_from()} if request.method == "GET" else None)
    if form.validate_on_submit():
        services.save_details(user, form.name.data, form.job_title.data or "")
        flash("Your details are saved.")
        return redirect(services.safe_next(form.next.data) or url_for("auth.details"))
    return render_template("auth/details.html", form=form), 400 if form.errors else 200

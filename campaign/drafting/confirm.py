"""The lead's confirmation pages: a page (GET) that says what a lifecycle step will
do, whose one button (POST) takes it."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, g, redirect, render_template
from werkzeug.wrappers import Response

from campaign.directory.access import require
from campaign.directory.models import Role
from campaign.drafting.models import Campaign, IllegalTransition
from campaign.extensions import db
from campaign.forms import ConfirmForm


def confirm_step(
    step: Callable[[Campaign], str],
    *,
    refusals: tuple[type[Exception], ...],
    done: Callable[[Campaign], str],
    template: str,
    context: Callable[[Campaign], dict],
) -> Response | tuple[str, int]:
    """The lead's only. On the button, `step` runs and its message is flashed on the
    way to `done`; a step refused (an illegal move or one of `refusals`) changes
    nothing and the page says why, with a 409."""
    require(Role.LEAD)
    campaign = g.campaign
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            message = step(campaign)
        except (IllegalTransition, *refusals) as exc:
            db.session.rollback()
            error = str(exc)
        else:
            flash(message)
            return redirect(done(campaign))
    page = render_template(template, campaign=campaign, form=form, error=error, **context(campaign))
    return page, 409 if error else 200

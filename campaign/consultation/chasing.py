"""The reminders button both dashboards share (consultation's and sign-off's): the
form, the lead's confirmation when the same heads were reminded recently, and
back to the dashboard on the same schools."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, url_for
from werkzeug.wrappers import Response

from campaign.consultation.forms import ReminderForm


def remind(
    dashboard: str,
    chase: Callable[[ReminderForm], list[int]],
    *,
    recently: type[Exception],
    refused: type[Exception],
) -> Response:
    """Send the reminders the posted form asks for with `chase`, then go back to the
    `dashboard` endpoint. `recently` is raised when the same heads were reminded
    within the interval (the dashboard then offers "Send another reminder");
    `refused` when they cannot be reminded at all."""
    form = ReminderForm()
    if not form.validate_on_submit() or not form.batch.data:
        abort(400)
    same_schools = {"la": form.la.data, "constituency": form.constituency.data}
    try:
        user_ids = chase(form)
    except recently as exc:
        flash(str(exc))
        return redirect(url_for(dashboard, **same_schools, _anchor="no-answer"))
    except refused as exc:
        flash(str(exc))
        return redirect(url_for(dashboard))
    flash(f"Reminders are going to {len(user_ids)} heads of schools that have not answered.")
    return redirect(url_for(dashboard, **same_schools))

"""The lead's sending pages: review, test, send, watch progress, retry, report."""

from __future__ import annotations

import io
from functools import partial

from flask import (
    Blueprint,
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
from campaign.delivery import services, steps
from campaign.delivery.glance import glance
from campaign.delivery.models import Channel, Message, MessageState
from campaign.delivery.outbox import DeliveryError, NoLetters, Planned, dao_counts, dao_keys, plan
from campaign.directory.access import require
from campaign.directory.models import Role
from campaign.downloads import attachment, csv_writer
from campaign.drafting.access import scope_to_campaign
from campaign.drafting.models import CampaignState
from campaign.formatting import plural
from campaign.forms import ConfirmForm
from campaign.letters.models import Audience, PackKind, RecipientKind
from campaign.letters.views import audience_or_404, download_pack, pack_status, start_pack
from campaign.mail import MailError

bp = Blueprint("delivery", __name__, url_prefix="/a/<slug>/campaigns/<cslug>/sending")
scope_to_campaign(bp)

LABELS = {Audience.MPS: "Letters to MPs", Audience.PARENTS: "Letters to parents"}
# The same, inside a sentence ("Review and send letters to MPs").
NAMES = {Audience.MPS: "letters to MPs", Audience.PARENTS: "letters to parents"}


@bp.before_request
def leads_only():
    require(Role.LEAD, Role.VIEWER)


def _summary(audience: Audience) -> dict:
    """The outbox in the words of the progress page."""
    counts = dao_counts(g.campaign.id, audience)
    email, post = counts["email"], counts["post"]
    in_doubt = services.dao_in_doubt_count(g.campaign.id, audience)
    # In doubt: claimed long ago with no outcome; not waiting for anything automatic.
    queued = email.get("created", 0) + email.get("sending", 0) - in_doubt
    total = sum(email.values())
    return {
        "total": total,
        "queued": queued,
        "sent": email.get("sent", 0),
        "delivered": email.get("delivered", 0),
        "bounced": email.get("bounced", 0),
        "dropped": email.get("dropped", 0),
        "failed": email.get("failed", 0),
        "done": total - queued - in_doubt,
        "post": sum(post.values()),
        "post_waiting": post.get("created", 0),
        "in_doubt": in_doubt,
        "retryable": services.dao_retryable_count(g.campaign.id, audience),
        "finished": queued == 0,
    }


def _plan(audience: Audience) -> tuple[Planned | None, str]:
    """The audience's plan, or why there is none ("" when no letter is rendered yet)."""
    try:
        return plan(g.campaign, audience), ""
    except NoLetters:
        return None, ""
    except DeliveryError as exc:
        return None, str(exc)


@bp.get("/")
def index():
    campaign = g.campaign
    audiences = [a for a in (Audience.MPS, Audience.PARENTS) if a.wanted_by(campaign)]
    return render_template(
        "delivery/index.html",
        campaign=campaign,
        audiences=audiences,
        labels=LABELS,
        glances={a: glance(campaign, a) for a in audiences},  # counted in SQL, not planned
        summaries={a: _summary(a) for a in audiences},
        can_send=campaign.state in (CampaignState.CLOSED, CampaignState.SENT),
        form=ConfirmForm(),
    )


@bp.post("/<audience>/test")
def test(audience: str):
    require(Role.LEAD)
    chosen = audience_or_404(audience)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.send_test(g.campaign, chosen, current_user)
    except (ValueError, MailError) as exc:
        flash(f"The test was not sent: {exc}")
    else:
        flash(f"A test of the first of the {NAMES[chosen]} went to {current_user.email}.")
    return redirect(url_for("delivery.index", _anchor=chosen.value))


@bp.route("/<audience>/send", methods=["GET", "POST"])
def send(audience: str):
    require(Role.LEAD)
    chosen = audience_or_404(audience)
    campaign = g.campaign
    form = ConfirmForm()
    error = None
    if campaign.state not in (CampaignState.CLOSED, CampaignState.SENT):
        error = "Letters are sent once sign-off is closed."
    planned, problem = _plan(chosen)
    if planned is None:
        error = error or problem or "Render the letters first: there are none to send."
    if error is None and form.validate_on_submit():
        planned, added = steps.send(campaign, chosen)
        counts = planned.counts()
        if added:
            flash(
                f"Sending {plural(counts['email'], 'email')}; "
                f"{plural(counts['post'], 'letter')} to post."
            )
        else:
            flash(
                f"Nothing new to send: all {plural(len(planned.rows), 'message')} "
                "were already in the outbox."
            )
        return redirect(url_for("delivery.progress", audience=chosen.value))
    return render_template(
        "delivery/confirm.html",
        campaign=campaign,
        audience=chosen,
        label=LABELS[chosen],
        planned=planned,
        counts=planned.counts() if planned else None,
        new=planned.counts(dao_keys(campaign.id, chosen)) if planned else None,
        sample=services.dao_first_letter(campaign.id, chosen),
        error=error,
        form=form,
    )


NOT_DELIVERED = {MessageState.FAILED, MessageState.BOUNCED, MessageState.DROPPED}


@bp.get("/<audience>")
def progress(audience: str):
    chosen = audience_or_404(audience)
    problems = services.dao_message_page(
        g.campaign.id, chosen, states=NOT_DELIVERED, page=request.args.get("page", 1, type=id_arg)
    )
    by_post = services.dao_message_page(
        g.campaign.id,
        chosen,
        channel=Channel.POST,
        page=request.args.get("post_page", 1, type=id_arg),
    )
    return render_template(
        "delivery/progress.html",
        campaign=g.campaign,
        audience=chosen,
        label=LABELS[chosen],
        summary=_summary(chosen),
        problems=problems,
        by_post=by_post,
        post_pack=pack_status(
            PackKind.POST, chosen, partial(services.dao_post_letter_keys, g.campaign.id, chosen)
        )
        if by_post.total
        else None,
        form=ConfirmForm(),
    )


@bp.get("/<audience>/status.json")
def status(audience: str):
    return jsonify(_summary(audience_or_404(audience)))


def _lead_action(audience: str, step, done: str):
    require(Role.LEAD)
    chosen = audience_or_404(audience)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    moved = step(g.campaign, chosen)
    flash(
        done.format(n=moved, s="" if moved == 1 else "s")
        if moved
        else "Nothing to do: the page was out of date."
    )
    return redirect(url_for("delivery.progress", audience=chosen.value))


@bp.post("/<audience>/retry")
def retry(audience: str):
    return _lead_action(audience, steps.retry_failed, "Trying {n} failed email{s} again.")


@bp.post("/<audience>/in-doubt")
def in_doubt(audience: str):
    return _lead_action(audience, steps.send_in_doubt_again, "Sending {n} email{s} in doubt again.")


@bp.post("/<audience>/posted")
def posted(audience: str):
    return _lead_action(audience, steps.mark_posted, "{n} letter{s} recorded as posted.")


def _post_letters(audience: str) -> tuple[Audience, list, str]:
    """The audience, its letters going by post ((id, sha256), in pack order), and
    where the post pack's page is."""
    chosen = audience_or_404(audience)
    letters = services.dao_post_letter_keys(g.campaign.id, chosen)
    return chosen, letters, url_for("delivery.progress", audience=chosen.value, _anchor="post")


@bp.post("/<audience>/post-pack")
def build_post_pack(audience: str):
    chosen, letters, back = _post_letters(audience)
    return start_pack(PackKind.POST, chosen, letters, back)


@bp.get("/<audience>/post-pack.json")
def post_pack_status(audience: str):
    chosen = audience_or_404(audience)
    letters = partial(services.dao_post_letter_keys, g.campaign.id, chosen)
    return jsonify(pack_status(PackKind.POST, chosen, letters).as_dict())


@bp.get("/<audience>/post-pack.pdf")
def post_pack(audience: str):
    return _post_download(audience, "pdf")


@bp.get("/<audience>/post-manifest.csv")
def post_manifest(audience: str):
    return _post_download(audience, "csv")


def _post_download(audience: str, suffix: str):
    chosen, letters, back = _post_letters(audience)
    if not letters:
        abort(404)
    name = f"{g.campaign.slug}-{chosen.value}-to-post.{suffix}"
    return download_pack(PackKind.POST, chosen, letters, back, name, manifest=suffix == "csv")


REPORT_HEADER = [
    "Audience",
    "Channel",
    "Recipient",
    "Address",
    "Outcome",
    "Attempts",
    "Sent",
    "Detail",
]


def _report_rows(messages: list[Message]):
    for m in messages:
        yield [
            m.audience.value,
            m.channel.value,
            m.to_name,
            m.to_address or "(erased after sending)"
            if m.kind is RecipientKind.PARENT
            else m.to_address,
            m.state.value,
            m.attempts,
            m.sent.isoformat(timespec="seconds") if m.sent else "",
            m.last_error or m.note,
        ]


@bp.get("/report.csv")
def report_csv():
    out = io.StringIO()
    rows = csv_writer(out)
    rows.writerow(REPORT_HEADER)
    for row in _report_rows(services.dao_messages(g.campaign.id)):
        rows.writerow(row)
    return attachment(out.getvalue().encode(), "text/csv", f"{g.campaign.slug}-delivery.csv")


@bp.get("/report")
def report():
    return render_template(
        "delivery/report.html",
        campaign=g.campaign,
        messages=services.dao_message_page(
            g.campaign.id, page=request.args.get("page", 1, type=id_arg)
        ),
        summaries={a: _summary(a) for a in Audience if a.wanted_by(g.campaign)},
        labels=LABELS,
    )

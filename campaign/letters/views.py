"""The lead's letters page: render, watch progress, preview, download."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

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
from sqlalchemy import Row

from campaign.bounds import id_arg
from campaign.directory.access import require
from campaign.directory.models import Role
from campaign.downloads import attachment
from campaign.drafting.access import scope_to_campaign
from campaign.extensions import db
from campaign.formatting import plural
from campaign.forms import ConfirmForm
from campaign.letters import listing, outputs, packs, steps, tasks
from campaign.letters.emails import email_body
from campaign.letters.merge import signing_lead
from campaign.letters.models import Audience, Letter, PackKind, PrintPack
from campaign.letters.services import dao_letter_files, dao_locked
from campaign.letters.store import letter_store
from campaign.security import EMAIL_PREVIEW_POLICY

bp = Blueprint("letters", __name__, url_prefix="/a/<slug>/campaigns/<cslug>/letters")
scope_to_campaign(bp)


@bp.before_request
def leads_only():
    require(Role.LEAD, Role.VIEWER)


def audience_or_404(name: str) -> Audience:
    """The audience a URL names ("parents", "mps"), or 404."""
    try:
        return Audience(name)
    except ValueError:
        abort(404)


# A render still queued after this long has no worker taking it, and one running
# with no progress for this long (a batch takes seconds) lost its worker: the page
# says so and offers to render again, which keeps what was rendered.
QUEUED_TOO_LONG_S = 120
STALLED_S = 600


def _status(audience: Audience) -> dict:
    state = tasks.read_progress(g.campaign.id, audience.value) or {}
    name = state.get("state", "idle")
    now = time.time()
    done, total = state.get("done", 0), state.get("total", 0)
    elapsed = max(now - (state.get("started") or now), 0.001)
    rate = done / elapsed if name == "running" and done else None
    eta = round((total - done) / rate) if rate else None
    waiting = round(now - (state.get("queued") or now)) if name == "queued" else 0
    stalled = name == "running" and now - (state.get("updated") or now) > STALLED_S
    if stalled:
        text = f"Stopped after {done:,} of {plural(total, 'letter')}."
        rate = eta = None
    elif name == "queued":
        text = "Waiting to start…"
    elif name == "running" and not total:
        text = "Starting: gathering the signatures…"
    elif name == "running":
        text = f"Rendering: {done:,} of {plural(total, 'letter')}"
        text += f" ({rate:,.1f} a second, about {plural(eta, 'second')} left)." if rate else "."
    elif name == "done":
        text = f"Rendered {plural(total, 'letter')}."
    else:
        text = "The letters were not rendered." if name == "failed" else ""
    return {
        "state": name,
        "done": done,
        "total": total,
        "per_s": round(rate, 1) if rate else None,
        "eta_s": eta,
        "text": text,
        "waiting_s": waiting,
        "stale": waiting > QUEUED_TOO_LONG_S or stalled,
        "stalled": stalled,
        "error": state.get("error", ""),
        "rendered": state.get("rendered"),
        "unchanged": state.get("unchanged"),
        "failing": state.get("failing"),
        "seconds": state.get("seconds"),
        "finished": name in ("idle", "done", "failed"),
    }


@bp.get("/")
def index():
    campaign = g.campaign
    query = request.args.get("q", "").strip()
    pages = {a: request.args.get(f"{a.value}_page", 1, type=id_arg) for a in Audience}
    return render_template(
        "letters/index.html",
        campaign=campaign,
        query=query,
        totals={a: listing.dao_totals(campaign.id, a) for a in Audience},
        failing={a: listing.dao_failing_first(campaign.id, a) for a in Audience},
        letters={
            a: listing.dao_letter_page(campaign.id, a, query=query, page=pages[a]) for a in Audience
        },
        status={a: _status(a) for a in Audience},
        packs={
            a: pack_status(PackKind.LETTERS, a, partial(packs.dao_letter_keys, campaign.id, a))
            for a in Audience
        },
        in_outbox={a: dao_locked(campaign.id, a) for a in Audience},
        signer=signing_lead(g.association),
        form=ConfirmForm(),
    )


@bp.post("/<audience>/render")
def render(audience: str):
    require(Role.LEAD)
    chosen = audience_or_404(audience)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if g.campaign.frozen_version_id is None:
        flash("Letters are made from the frozen text: open sign-off first.")
        return redirect(url_for("letters.index"))
    steps.render(g.campaign, chosen)
    return redirect(url_for("letters.index", _anchor=chosen.value))


@bp.get("/<audience>/status.json")
def status(audience: str):
    return jsonify(_status(audience_or_404(audience)))


def _letter(letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id)
    if letter is None or letter.campaign_id != g.campaign.id:
        abort(404)
    return letter


@bp.get("/<int:letter_id>/preview.png")
def preview(letter_id: int):
    try:
        png = outputs.first_page_png(_letter(letter_id))
    except KeyError:  # its PDF was deleted under the retention policy
        abort(404)
    return Response(png, mimetype="image/png")


@bp.get("/<int:letter_id>")
def show(letter_id: int):
    letter = _letter(letter_id)
    return render_template(
        "letters/show.html", campaign=g.campaign, letter=letter, email=email_body(letter)
    )


@bp.get("/<int:letter_id>/email.html")
def email_html(letter_id: int):
    response = Response(email_body(_letter(letter_id)).html, mimetype="text/html")
    # Inline styles, as an email needs; nothing runs, loads or submits.
    response.headers["Content-Security-Policy"] = EMAIL_PREVIEW_POLICY
    return response


@bp.get("/<int:letter_id>.pdf")
def pdf(letter_id: int):
    letter = _letter(letter_id)
    try:
        body = letter_store().stream(letter.sha256)
    except KeyError:
        abort(404)
    return attachment(body, "application/pdf", outputs.file_name(letter))


@bp.get("/<audience>.zip")
def zip_all(audience: str):
    chosen = audience_or_404(audience)
    letters = dao_letter_files(g.campaign.id, chosen)
    body = outputs.letters_zip(letters, letter_store())
    return attachment(body, "application/zip", f"{g.campaign.slug}-{chosen.value}-letters.zip")


# The print pack: built by a worker (packs.py), downloaded from the letter store.
# The sending page's post pack is the same, of the letters going by post.


def pack_status(
    kind: PackKind, audience: Audience, letters: Callable[[], list[Row]]
) -> packs.PackStatus:
    """The campaign's pack of this kind, against the letters it would hold now
    (`letters` is asked only if the pack is ready: not on every poll while it builds)."""
    return packs.status(packs.dao_pack(g.campaign.id, audience, kind), letters)


def start_pack(kind: PackKind, audience: Audience, letters: list[Row], back: str):
    """The lead's Build button: save the pack and queue its build, once."""
    require(Role.LEAD)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not letters:
        flash("There are no letters to pack.")
    elif steps.build_pack(g.campaign, audience, kind, letters) is None:
        flash("Nothing to do: the print pack is being built, or is up to date.")
    else:
        flash(f"Building the print pack of {plural(len(letters), 'letter')}.")
    return redirect(back)


def download_pack(
    kind: PackKind, audience: Audience, letters: list[Row], back: str, filename: str, *,
    manifest: bool = False,
) -> Response:  # fmt: skip
    """The stored pack (or its manifest), streamed from the letter store, if it is
    ready and made from the letters as they are; else back to the page, saying why."""
    shown = pack_status(kind, audience, lambda: letters)
    if shown.state == "ready" and shown.current:
        pack = db.session.get(PrintPack, shown.pack_id)
        try:
            body = letter_store().stream(pack.manifest_key if manifest else pack.key)
        except KeyError:  # deleted under the retention policy
            abort(404)
        return attachment(body, "text/csv" if manifest else "application/pdf", filename)
    flash(
        "The print pack is out of date: the letters were rendered again since. Build it again."
        if shown.state == "ready"
        else "Build the print pack first: it is not ready yet."
    )
    return redirect(back)


def _back(audience: str) -> str:
    return url_for("letters.index", _anchor=audience)


@bp.post("/<audience>/print-pack")
def build_pack(audience: str):
    chosen = audience_or_404(audience)
    letters = packs.dao_letter_keys(g.campaign.id, chosen)
    return start_pack(PackKind.LETTERS, chosen, letters, _back(audience))


@bp.get("/<audience>/print-pack.json")
def print_pack_status(audience: str):
    chosen = audience_or_404(audience)
    letters = partial(packs.dao_letter_keys, g.campaign.id, chosen)
    return jsonify(pack_status(PackKind.LETTERS, chosen, letters).as_dict())


@bp.get("/<audience>/print-pack.pdf")
def print_pack(audience: str):
    chosen = audience_or_404(audience)
    letters = packs.dao_letter_keys(g.campaign.id, chosen)
    name = f"{g.campaign.slug}-{audience}-print-pack.pdf"
    return download_pack(PackKind.LETTERS, chosen, letters, _back(audience), name)


@bp.get("/<audience>/print-manifest.csv")
def print_manifest(audience: str):
    chosen = audience_or_404(audience)
    letters = packs.dao_letter_keys(g.campaign.id, chosen)
    name = f"{g.campaign.slug}-{audience}-manifest.csv"
    return download_pack(PackKind.LETTERS, chosen, letters, _back(audience), name, manifest=True)

"""Pages outside any association: SendGrid's event webhook, and the unsubscribe
link in parents' email (a page with a button, and RFC 8058 one-click POST)."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from campaign.bounds import upload_limit
from campaign.delivery.compose import read_unsubscribe_token
from campaign.delivery.events import MAX_BODY_BYTES, parse_events, record_events, signature_valid
from campaign.delivery.models import Suppression
from campaign.delivery.outbox import insert_new
from campaign.extensions import csrf, db

bp = Blueprint("unsubscribe", __name__)
log = logging.getLogger(__name__)

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@bp.post("/webhooks/sendgrid")
@csrf.exempt
@upload_limit(MAX_BODY_BYTES)
def sendgrid_events():
    raw = request.get_data(cache=False)
    valid = signature_valid(
        current_app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"],
        raw,
        request.headers.get(SIGNATURE, ""),
        request.headers.get(TIMESTAMP, ""),
    )
    if not valid:
        log.warning("Refused an event webhook post with a missing, bad or old signature.")
        abort(403)
    events = parse_events(raw)
    if events is None:
        log.warning("Refused a signed event webhook post that is not a JSON list of events.")
        abort(400)
    summary = record_events(events)
    db.session.commit()
    return jsonify(summary.as_dict())


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients post the one-click form without our token (RFC 8058)
def confirm(token: str):
    digest = read_unsubscribe_token(token)
    if digest is None:
        abort(404)
    if request.method == "POST":
        insert_new(Suppression, [{"email_sha256": digest, "reason": "unsubscribe"}], "email_sha256")
        db.session.commit()
        return render_template("delivery/unsubscribed.html")
    return render_template("delivery/unsubscribe.html", token=token)

"""Development only: read the file outbox in the browser, to click sign-in links, and
play SendGrid's signed event webhook locally."""

from __future__ import annotations

import base64
import json
import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import click
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Blueprint, Flask, current_app, render_template
from flask.cli import with_appcontext
from sqlalchemy import select

from campaign.delivery.models import Channel, Message, MessageState
from campaign.delivery.public import SIGNATURE, TIMESTAMP
from campaign.drafting.cli import association_option, campaign_or_fail
from campaign.extensions import db

bp = Blueprint("devtools", __name__, url_prefix="/dev")
LINK = re.compile(r"https?://\S+")


def init_app(app: Flask) -> None:
    """Development only: the outbox pages, `campaign dev-events`, and a webhook key of
    the app's own unless SENDGRID_WEBHOOK_PUBLIC_KEY is set."""
    if not app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"]:
        app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = dev_webhook_public_key(
            Path(app.config["INSTANCE"])
        )
    app.register_blueprint(bp)
    app.cli.add_command(dev_events_command)


@bp.get("/outbox")
def outbox():
    directory = Path(current_app.config["OUTBOX_DIR"])
    messages = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:50]:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body else ""
        messages.append(
            {
                "name": path.name,
                "to": message["To"],
                "subject": message["Subject"],
                "date": message["Date"],
                "text": text,
                "links": LINK.findall(text),
            }
        )
    return render_template("devtools/outbox.html", messages=messages)


# --- SendGrid's event webhook, played locally -----------------------------------
# In development the app trusts a key pair of its own (kept in instance/), so the
# real, signed webhook can be exercised without SendGrid: `campaign dev-events`.

DEV_KEY_FILE = "webhook-dev-key.pem"


def dev_webhook_key(instance: Path) -> ec.EllipticCurvePrivateKey:
    """The development signing key, made on first use."""
    path = instance / DEV_KEY_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def dev_webhook_public_key(instance: Path) -> str:
    """The public half, as SendGrid shows its verification key (base64 DER)."""
    der = (
        dev_webhook_key(instance)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


def replay_events(campaign_id: int, event: str = "delivered") -> dict:
    """Post signed `processed` and `event` events for every sent email of a campaign to
    the app's own webhook, as SendGrid would; posting again is recognised as a replay."""
    messages = db.session.scalars(
        select(Message).where(
            Message.campaign_id == campaign_id,
            Message.channel == Channel.EMAIL,
            Message.state != MessageState.CREATED,
        )
    ).all()
    now = int(time.time())
    events = [
        {"event": kind, "message_id": str(m.id), "sg_event_id": f"dev-{m.id}-{kind}",
         "sg_message_id": m.provider_id, "timestamp": now}
        for m in messages
        for kind in ("processed", event)
    ]  # fmt: skip
    body = json.dumps(events).encode()
    key = dev_webhook_key(Path(current_app.config["INSTANCE"]))
    signature = key.sign(str(now).encode() + body, ec.ECDSA(hashes.SHA256()))
    response = current_app.test_client().post(
        "/webhooks/sendgrid",
        data=body,
        headers={SIGNATURE: base64.b64encode(signature).decode(), TIMESTAMP: str(now)},
    )
    return {"status": response.status_code, **(response.get_json(silent=True) or {})}


@click.command("dev-events")
@click.argument("campaign_slug")
@association_option
@click.option(
    "--event",
    type=click.Choice(["delivered", "bounce", "dropped", "deferred", "open"]),
    default="delivered",
    show_default=True,
)
@with_appcontext
def dev_events_command(campaign_slug: str, slug: str | None, event: str) -> None:
    """Play SendGrid's signed event webhook for a campaign's sent emails (processed,
    then EVENT), through the app's real webhook endpoint."""
    click.echo(json.dumps(replay_events(campaign_or_fail(campaign_slug, slug).id, event)))

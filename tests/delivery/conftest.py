"""A closed campaign with its letters rendered, and a local SendGrid to send to.

Saxon High (Basildon, whose MP has an email) and Thurrock School (Thurrock,
whose MP has none) signed; Abbey declined. So: one MP email and one MP letter by
post; two heads' emails with their parents' letters.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaign.directory.models import Constituency
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.services import render_letters
from campaign.signoff import services
from tests import fakes
from tests.letters.conftest import signed  # noqa: F401
from tests.signoff.conftest import signoff  # noqa: F401

MP_EMAIL = "richard.holden.mp@parliament.example"


@pytest.fixture
def closed(signed):  # noqa: F811
    """The signed campaign, closed, with both audiences' letters rendered."""
    campaign = signed["campaign"]
    seats = {c.ons_code: c for c in db.session.scalars(db.select(Constituency))}
    seats["E14001077"].mp.email = MP_EMAIL
    seats["E14001535"].mp.email = ""
    signed["a"].email = "office@assoc-a.example"
    services.close(campaign, signed["lead"])
    db.session.commit()
    for audience in Audience:
        render_letters(campaign, audience, processes=1)
    return signed


@pytest.fixture
def sendgrid(app):
    """A local server speaking SendGrid's v3 Mail Send; the app sends to it, with
    retries fast enough for tests."""
    with fakes.serve(fakes.sendgrid) as (url, recorder):
        app.config.update(
            SENDGRID_API_KEY=fakes.SENDGRID_KEY,
            SENDGRID_API_HOST=url,
            SENDGRID_TIMEOUT=1.0,
            SEND_BACKOFF_BASE=0.01,
            SEND_BACKOFF_CAP=0.05,
            SEND_WORKERS=4,
        )
        yield recorder


class WebhookSigner:
    """Signs event posts as SendGrid does (ECDSA P-256, SHA-256, over timestamp + body)."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes

        signature = self.key.sign(str(timestamp).encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": str(timestamp),
            "Content-Type": "application/json",
        }


@pytest.fixture
def signer(app):
    signer = WebhookSigner()
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signer.public_key
    return signer

"""A closed campaign with its letters rendered, and a local SendGrid to send to.

Saxon High (Basildon, whose MP has an email) and Thurrock School (Thurrock,
whose MP has none) signed; Abbey declined. So: one MP email and one MP letter by
post; two heads' emails with their parents' letters.
"""

from __future__ import annotations

import pytest

from campaign.directory.models import Constituency
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from tests import fakes
from tests.factories import add_co_head, make_signed_campaign, scene

MP_EMAIL = "richard.holden.mp@parliament.example"


@pytest.fixture
def closed(association_world):
    """The signed campaign (tests.factories.make_signed_campaign, Thurrock School
    with a co-head), closed, with both audiences' letters rendered."""
    seats = {c.ons_code: c for c in db.session.scalars(db.select(Constituency))}
    seats["E14001077"].mp.email = MP_EMAIL
    seats["E14001535"].mp.email = ""
    association_world.a.email = "office@assoc-a.example"
    add_co_head(association_world)
    campaign = make_signed_campaign(association_world, state=CampaignState.CLOSED)
    for audience in Audience:
        render_letters(campaign, audience, processes=1)
    return scene(association_world, campaign)


@pytest.fixture
def sendgrid(app):
    """A local server speaking SendGrid's v3 Mail Send; the app sends to it, with
    retries fast enough for tests."""
    with fakes.serve(fakes.sendgrid) as (url, recorder):
        app.config.update(
            SENDGRID_API_KEY=fakes.SENDGRID_KEY,
            SENDGRID_API_HOST=url,
            # Long enough for a request of 1,000 parents on a loaded machine (at 1 s
            # such a request timed out in CI and left its messages in doubt); the
            # timeout tests set their own.
            SENDGRID_TIMEOUT=15.0,
            SEND_BACKOFF_BASE=0.01,
            SEND_BACKOFF_CAP=0.05,
            SEND_WORKERS=4,
        )
        yield recorder


@pytest.fixture
def signer(app):
    signer = fakes.WebhookSigner()
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signer.public_key
    return signer

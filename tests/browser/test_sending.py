"""The lead sends the demo's MP letters from the browser and watches them delivered."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from campaign.delivery.models import Message
from campaign.demo import load_demo
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from campaign.signoff import services as signoff
from tests.browser.conftest import assert_accessible_basics
from tests.browser.test_campaign_journeys import CAMPAIGN, signed_in, user
from tests.fakes import WebhookSigner

pytestmark = pytest.mark.browser


def test_lead_sends_mp_letters_and_sees_them_delivered(app, live_server, new_page, link_for):
    load_demo(with_signoff=True)
    campaign = db.session.scalar(select(Campaign))
    lead = user("lead@demo.example")
    signoff.close(campaign, lead)
    db.session.commit()
    render_letters(campaign, Audience.MPS, processes=1)
    signer = WebhookSigner()
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signer.public_key

    page = signed_in(new_page, link_for(lead), width=360, height=740)
    page.goto(f"{live_server}{CAMPAIGN}/")
    page.get_by_role("link", name=re.compile("^Sending")).click()
    expect(page.locator("section#mps")).to_contain_text("17 MPs by email, 1 letter by post")
    page.get_by_role("link", name="Review and send letters to MPs").click()
    expect(page.get_by_text("Jen Craft MP")).to_be_visible()  # Thurrock: by post
    # Not wait_for_function: the page's CSP forbids the eval it polls with.
    image = page.locator("img.letter-preview")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 300
    assert_accessible_basics(page)
    page.get_by_role("button", name="Send 17 emails and prepare 1 letter for the post").click()
    expect(page.get_by_text("17 of 17 emails finished.")).to_be_visible()
    expect(page.locator("[data-count=sent]")).to_have_text("17")
    assert_accessible_basics(page)

    # SendGrid reports them delivered through the signed webhook.
    sent = db.session.scalars(select(Message).where(Message.to_address != "")).all()
    now = int(time.time())
    events = [{"event": "delivered", "message_id": str(m.id), "sg_event_id": f"e{m.id}",
               "timestamp": now} for m in sent]  # fmt: skip
    body = json.dumps(events).encode()
    assert (
        app.test_client()
        .post("/webhooks/sendgrid", data=body, headers=signer.headers(body, now))
        .status_code
        == 200
    )
    page.reload()
    expect(page.locator("[data-count=delivered]")).to_have_text("17")
    expect(page.locator("[data-count=sent]")).to_have_text("0")

    # Sending again: the page says there is nothing new, and offers no button.
    page.goto(f"{live_server}{CAMPAIGN}/sending/mps/send")
    expect(page.get_by_text("All of these are already in the outbox")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Send"))).to_have_count(0)
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == 18

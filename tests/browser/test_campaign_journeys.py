"""The consultation and sign-off rounds, end to end, as the lead and two heads."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from campaign.demo import load_demo
from campaign.directory.models import User
from campaign.extensions import db
from tests.browser.conftest import assert_accessible_basics
from tests.factories import links_in

pytestmark = pytest.mark.browser
CAMPAIGN = "/a/essex-heads/campaigns/fair-funding-for-our-schools"
EXEC = "thomas.kowalski@abbey-community-college.example"
HEAD = "grace.vaughan@saxon-high-school.example"


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def emailed_link(outbox, to: str, subject_start: str) -> str:
    message = [m for m in outbox() if m["To"] == to and m["Subject"].startswith(subject_start)][-1]
    return links_in(message)[0]


def signed_in(new_page, link: str, **size):
    page = new_page(**size)
    page.goto(link)
    page.get_by_role("button", name=re.compile("^Continue as")).click()
    return page


def test_a_whole_consultation_round(app, live_server, new_page, link_for, outbox):
    load_demo()
    db.session.commit()
    lead = signed_in(new_page, link_for(user("lead@demo.example")))
    lead.goto(f"{live_server}{CAMPAIGN}/")
    lead.get_by_role("link", name="Open the consultation").click()
    lead.get_by_role("button", name="Open the consultation and email 83 heads").click()
    expect(lead.get_by_text("The consultation is open.")).to_be_visible()

    # Two heads answer from their emailed links, on phone-sized screens.
    exec_page = signed_in(
        new_page, emailed_link(outbox, EXEC, "Consultation"), width=360, height=740
    )
    expect(exec_page).to_have_url(re.compile(r"/respond$"))
    for school, deficit in (
        ("Abbey Community College", "£1,250,000"),
        ("Denholme School", "480000"),
    ):
        exec_page.get_by_role("link", name=f"Answer for {school}").click()
        exec_page.get_by_label("Agree: my school supports the statement as it stands").check()
        exec_page.get_by_label("Projected deficit for 2026/27, in pounds").fill(deficit)
        exec_page.get_by_label(re.compile("Number of teaching posts cut")).fill("2")
        exec_page.get_by_role("button", name=f"Save the answer for {school}").click()
        expect(exec_page.get_by_text(f"{school}'s answer is saved")).to_be_visible()
        assert_accessible_basics(exec_page)

    head = signed_in(new_page, emailed_link(outbox, HEAD, "Consultation"), width=360, height=740)
    head.get_by_role("link", name="Answer for Saxon High School").click()
    head.get_by_label(re.compile("^Disagree")).check()
    head.get_by_label("Projected deficit for 2026/27, in pounds").fill("1.25m")
    head.get_by_role("button", name="Save the answer for Saxon High School").click()
    errors = head.locator(".error-summary")
    expect(errors).to_contain_text("Say why your school disagrees or blocks")
    expect(errors).to_contain_text("Write the amount in full")
    head.get_by_label(re.compile("^Why")).fill("The SEND paragraph should give the waiting times.")
    head.get_by_label("Projected deficit for 2026/27, in pounds").fill("900000")
    head.get_by_role("button", name="Save the answer for Saxon High School").click()
    expect(head.get_by_text("Saxon High School's answer is saved")).to_be_visible()
    head.get_by_role("link", name="Comment on or change paragraph 5").click()
    head.get_by_label("Your comment").fill("Please give the waiting times in weeks.")
    head.get_by_role("button", name="Post comment").click()
    new_text = (
        head.get_by_label("Your version of this paragraph")
        .input_value()
        .replace("Families wait months", "Families wait many months, beyond the 20-week limit,")
    )
    head.get_by_label("Your version of this paragraph").fill(new_text)
    head.get_by_role("button", name="Propose this change").click()
    expect(head.get_by_text("Your proposed change is sent to the lead")).to_be_visible()

    # The lead accepts the amendment and reads the summary.
    lead.goto(f"{live_server}{CAMPAIGN}/consultation")
    expect(lead.get_by_text("Please give the waiting times in weeks.")).to_be_visible()
    lead.get_by_role("button", name="Accept and make a new version").click()
    expect(lead.get_by_text("Amendment accepted: the statement is now version 2.")).to_be_visible()
    cards = lead.locator(".cards").first
    expect(cards).to_contain_text("2 Agree")
    expect(cards).to_contain_text("1 Disagree")
    expect(lead.get_by_text("The SEND paragraph should give the waiting times.")).to_be_visible()
    basildon = lead.locator("tr", has_text="Basildon and Billericay").first
    expect(basildon).to_be_visible()
    expect(lead.locator("table").filter(has_text="Constituency").first).to_contain_text("£")
    assert_accessible_basics(lead)
    assert any(m["Subject"].startswith("Statement updated") for m in outbox())


def test_sign_off_from_the_email_to_the_public_page(app, live_server, new_page, link_for, outbox):
    load_demo(with_consultation=True)
    db.session.commit()
    lead = signed_in(new_page, link_for(user("lead@demo.example")))
    lead.goto(f"{live_server}{CAMPAIGN}/")
    lead.get_by_role("link", name="Freeze the text and open sign-off").click()
    lead.get_by_role("button", name="Freeze version 2 and email 83 heads").click()
    expect(lead.get_by_text("0 signed, 0 declined, 85 no answer")).to_be_visible()

    # A head signs in three screens on a phone.
    phone = new_page(width=360, height=740)
    phone.goto(emailed_link(outbox, HEAD, "Please sign"))
    expect(phone.locator("h1")).to_have_text(
        re.compile("Continue as Grace Vaughan, principal of Saxon High School")
    )
    phone.get_by_role("button", name=re.compile("^Continue as")).click()  # screen 1
    expect(phone.get_by_label("Your role")).to_have_value("Principal")  # screen 2
    phone.get_by_role("button", name="Send Saxon High School's answer").click()
    expect(phone.locator("h1")).to_have_text("Saxon High School has signed")  # screen 3
    assert_accessible_basics(phone)

    # The lead watches the dashboard move, chases the rest, publishes and closes.
    lead.goto(f"{live_server}{CAMPAIGN}/signoff")
    expect(lead.get_by_text("1 signed, 0 declined, 84 no answer")).to_be_visible()
    before = len(outbox())
    lead.get_by_role("button", name=re.compile(r"^Send a reminder to 8\d heads")).click()
    expect(lead.get_by_text(re.compile("Reminders are going to"))).to_be_visible()
    chased = [m["To"] for m in outbox()[before:]]
    assert HEAD not in chased and EXEC in chased
    lead.get_by_label("Publish the list of signatories once sign-off closes").check()
    lead.get_by_role("button", name="Save settings").click()
    lead.goto(f"{live_server}{CAMPAIGN}/close-signoff")
    lead.get_by_role("button", name="Close sign-off with 1 signature").click()
    public = new_page()
    public.goto(f"{live_server}/public/essex-heads/fair-funding-for-our-schools")
    expect(public.get_by_text("Saxon High School: Grace Vaughan, Principal")).to_be_visible()
    expect(public.get_by_text("signed by 1 school")).to_be_visible()
    assert_accessible_basics(public)


def test_lead_renders_previews_and_downloads_letters(app, live_server, new_page, link_for):
    load_demo(with_signoff=True)
    db.session.commit()
    lead = signed_in(new_page, link_for(user("lead@demo.example")))
    lead.goto(f"{live_server}{CAMPAIGN}/")
    lead.get_by_role("link", name=re.compile("^Letters to parents and MPs")).click()
    mps = lead.locator("section#mps")
    mps.get_by_role("button", name="Render the letters").click()
    expect(lead.locator("section#mps")).to_contain_text("18 letters rendered")
    # exact: the PDF link beside it is named "PDF of the letter to Richard Holden MP".
    lead.locator("section#mps").get_by_role("link", name="Richard Holden MP", exact=True).click()
    preview = lead.get_by_role(
        "img", name=re.compile("first page of the letter to Richard Holden MP")
    )
    expect(preview).to_be_visible()
    # Not wait_for_function: the page's CSP forbids the eval it polls with.
    image = lead.locator("img.letter-preview")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 500
    expect(lead.get_by_text("Dear Richard Holden,").first).to_be_visible()  # the email version
    with lead.expect_download() as download:
        lead.get_by_role("link", name="Download the PDF").click()
    assert download.value.suggested_filename == "E14001077 Richard Holden MP.pdf"
    lead.go_back()
    lead.go_back()
    lead.locator("section#mps").get_by_role("button", name="Build the print pack").click()
    with lead.expect_download() as pack:
        mps = lead.locator("section#mps")
        mps.get_by_role("link", name="Download the print pack (PDF)").click()
    assert pack.value.suggested_filename.endswith("mps-print-pack.pdf")
    assert_accessible_basics(lead)

"""Journeys in a real browser: the lead, a head on a phone with the keyboard alone,
the sign-in form's errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from campaign.demo import load_demo
from campaign.directory.models import User
from campaign.extensions import db
from tests.browser.conftest import assert_accessible_basics

pytestmark = pytest.mark.browser


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def demo(app):
    load_demo()
    db.session.commit()


def test_lead_signs_in_and_sees_members_and_mps(demo, live_server, new_page, link_for):
    page = new_page()
    link = link_for(user("lead@demo.example"))
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Continue as Alex Morgan")
    page.goto(link)  # a GET (a mail scanner) does not use the link up
    page.get_by_role("button", name="Continue as Alex Morgan").click()
    expect(page.locator("h1")).to_have_text("Essex Secondary Heads' Association")
    assert_accessible_basics(page)
    page.get_by_role("link", name="Members").click()
    expect(page.get_by_text("85 schools.")).to_be_visible()
    assert page.locator("table.table tbody tr").count() == 85
    row = page.locator("tr", has_text="Abbey Community College")
    expect(row).to_contain_text("Thomas Kowalski")
    expect(row).to_contain_text("Essex")
    assert_accessible_basics(page)
    page.get_by_role("link", name="MPs").click()
    expect(page.get_by_text("18 constituencies hold member schools.")).to_be_visible()
    expect(page.locator("tr", has_text="Basildon and Billericay")).to_contain_text("Richard Holden")
    # The link worked once: a second use says so.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This link no longer works")


def test_head_on_a_phone_signs_in_with_the_keyboard(demo, live_server, new_page, link_for):
    page = new_page(width=320, height=640)
    page.goto(link_for(user("thomas.kowalski@abbey-community-college.example")))
    expect(page.locator("h1")).to_contain_text("Continue as Thomas Kowalski")
    page.keyboard.press("Tab")  # the skip link
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your schools")).to_be_visible()
    expect(page.get_by_text("Abbey Community College")).to_be_visible()
    expect(page.get_by_text("Denholme School")).to_be_visible()
    assert_accessible_basics(page)


def test_members_table_fits_a_phone(demo, live_server, new_page, link_for):
    page = new_page(width=320, height=640)
    page.goto(link_for(user("lead@demo.example")))
    page.get_by_role("button").last.click()
    page.goto(f"{live_server}/a/essex-heads/schools")
    assert_accessible_basics(page)


def test_sign_in_form_errors_and_the_same_answer_for_anyone(demo, live_server, new_page):
    page = new_page()
    page.goto(f"{live_server}/sign-in")
    page.get_by_role("button", name="Email me a sign-in link").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Enter your email address")).to_have_attribute(
        "href", "#email"
    )
    page.get_by_label("Email address").fill("not an email")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("#email-error")).to_contain_text("correct format")
    expect(page.get_by_label("Email address")).to_have_value("not an email")
    page.get_by_label("Email address").fill("nobody@nowhere.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    assert_accessible_basics(page)


def test_skip_link_moves_focus_to_main(demo, live_server, new_page):
    page = new_page()
    page.goto(f"{live_server}/sign-in")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_import_progress_page_updates_itself(demo, live_server, new_page, link_for):
    from campaign.directory.imports import create_import_job, run_import_job
    from campaign.directory.services import association_by_slug
    from tests.conftest import DEMO_DATA

    lead = user("lead@demo.example")
    data = (DEMO_DATA / "roster-essex-secondary-heads.csv").read_bytes()
    job = create_import_job(association_by_slug("essex-heads"), lead, "roster", "roster.csv", data)
    db.session.commit()  # queued, not yet run: no worker in this test
    page = new_page()
    page.goto(link_for(lead, next_path=f"/a/essex-heads/imports/{job.id}"))
    page.get_by_role("button").last.click()
    expect(page.get_by_text("Waiting to start.")).to_be_visible()
    run_import_job(job.id)  # the worker's part
    expect(page.get_by_role("heading", name="The roster was imported")).to_be_visible()
    expect(page.locator("[data-count=unchanged]")).to_have_text("84")

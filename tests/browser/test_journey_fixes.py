"""Rough edges a person sees in a real browser: sideways scrolling, buttons that read
as text, headings against the header, numbers out of line, contrast, focus."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from campaign.consultation import services as consultation
from campaign.directory.models import Role
from campaign.drafting.services import create_campaign, save_statement
from campaign.extensions import db
from campaign.signoff import services as signoff
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import Decision
from tests.browser.conftest import assert_accessible_basics
from tests.factories import make_association, make_headship, make_school, make_user

pytestmark = pytest.mark.browser
SIZES = [(390, 844), (1280, 800)]
BASE = "/a/assoc-a/campaigns/fair-funding"
# A link whose file name has no place to break: in both columns of an unchanged row.
LINK = (
    "https://assets.publishing.service.gov.uk/media/67a1b2c3d4e5f6a7b8c9d0e1/"
    "Schools_block_national_funding_formula_2025_to_2026_technical_note.pdf"
)
BODY = (
    "## Fair funding\n\nWe are the heads of the schools of Essex, and we write together "
    "because the settlement leaves our schools unable to do what is asked of them.\n\n"
    f"The figures are at {LINK}.\n\nWe ask for a fair settlement."
)

# The contrast of each element's text against the first opaque background behind it.
CONTRAST = """(selector) => {
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => v / 255)
      .map(v => v <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4);
    return .2126 * c[0] + .7152 * c[1] + .0722 * c[2];
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].filter(el => el.textContent.trim()).map(el => {
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    return [el.tagName + "." + el.className, (Math.max(a, b) + .05) / (Math.min(a, b) + .05)];
  });
}"""


@pytest.fixture
def campaign(app):
    """Association A, a lead, a head of one school, and a campaign whose version 2
    changed a paragraph, holding a long link, in consultation."""
    a = make_association(slug="assoc-a", name="Association A")
    lead = make_user("lead@a.example", "Lena Lead", a, Role.LEAD)
    head = make_user("head@a.example", "Grace Vaughan", a, Role.HEAD)
    school = make_school(a, urn=900001, name="Saxon High School", local_authority="Essex")
    make_headship(a, head, school, "Principal")
    campaign = create_campaign(a, "Fair funding", body=BODY, author=lead)
    db.session.flush()
    save_statement(
        campaign, BODY.replace("a fair settlement", "a fair and lasting settlement"), lead
    )
    consultation.open_consultation(campaign)
    db.session.commit()
    return {"campaign": campaign, "lead": lead, "head": head, "school": school}


def _signed_in(new_page, link_for, user, width, height):
    page = new_page(width=width, height=height)
    page.goto(link_for(user))
    page.get_by_role("button", name=re.compile("^Continue as")).click()
    return page


def _fits(page) -> None:
    # Measured once the page's stylesheet has loaded: after a form's navigation the
    # new page's text can be laid out unstyled first (995 px wide on a 390 px phone).
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("innerWidth")


def _space_above_h1(page) -> float:
    return page.evaluate(
        "document.querySelector('h1').getBoundingClientRect().top"
        " - document.querySelector('.site-header').getBoundingClientRect().bottom"
    )


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_public_check_fits_the_screen_and_answers_in_the_printed_form(
    campaign, live_server, new_page, width, height
):
    c, head, school = campaign["campaign"], campaign["head"], campaign["school"]
    signoff.freeze(c, campaign["lead"])
    db.session.commit()
    signoff_steps.sign(
        c, school, head, decision=Decision.SIGNED, name="Grace Vaughan", role="Principal",
        shown_sha256=c.frozen_version.sha256,
    )  # fmt: skip
    c.public_page = True
    signoff_steps.close(c, None)
    printed = signoff.reference(c, c.frozen_version)
    page = new_page(width=width, height=height)
    page.goto(f"{live_server}/public/assoc-a/fair-funding")
    page.get_by_label("The reference printed at the foot of the letter").fill(
        printed.lower().replace("-", " ")
    )
    check = page.get_by_role("button", name="Check")
    # The site's primary button: green with white text, not grey on the grey panel.
    colours = check.evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
    )
    assert colours == ["rgb(0, 112, 60)", "rgb(255, 255, 255)"]
    check.click()
    answer = page.get_by_role("status")
    expect(answer).to_contain_text(f"Genuine Reference {printed} is this statement, version 2")
    _fits(page)
    assert_accessible_basics(page)
    assert all(ratio >= 4.5 for _, ratio in page.evaluate(CONTRAST, ".panel *"))
    assert _space_above_h1(page) >= 16
    page.screenshot(path=f"/tmp/journey-public-{width}.png", full_page=True)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_compare_fits_the_screen_and_marks_changes_beyond_colour(
    campaign, live_server, new_page, link_for, width, height
):
    page = _signed_in(new_page, link_for, campaign["lead"], width, height)
    page.goto(f"{live_server}/a/assoc-a/campaigns/fair-funding/compare?a=1&b=2")
    expect(page.locator("h1")).to_have_text("Version 1 and version 2")
    _fits(page)
    assert_accessible_basics(page)
    removed, added = page.locator(".diff del"), page.locator(".diff ins")
    expect(page.locator(".diff-changed .label").first).to_have_text("Removed (¶4)")
    expect(page.locator(".diff-changed .label").last).to_have_text("Added (¶4)")
    assert "line-through" in removed.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "underline" in added.evaluate("e => getComputedStyle(e).textDecorationLine")
    ratios = page.evaluate(CONTRAST, ".diff del, .diff ins, .diff .label")
    assert len(ratios) == 4 and all(ratio >= 4.5 for _, ratio in ratios), ratios
    assert _space_above_h1(page) >= 16
    page.screenshot(path=f"/tmp/journey-compare-{width}.png", full_page=True)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_paragraph_numbers_sit_on_their_paragraph_s_first_line(
    campaign, live_server, new_page, link_for, width, height
):
    page = _signed_in(new_page, link_for, campaign["head"], width, height)
    page.goto(f"{live_server}{BASE}/respond")
    _fits(page)
    # The bottom of the number and of the paragraph's first line: the same baseline.
    gaps = page.evaluate(
        """() => [...document.querySelectorAll('.statement-text .para')].map(para => {
          const number = para.querySelector('.para-number').getBoundingClientRect();
          const range = document.createRange();
          const text = para.querySelector('.para-number + div');
          const first = document.createTreeWalker(text, NodeFilter.SHOW_TEXT,
            {acceptNode: n => n.textContent.trim() ? 1 : 3}).nextNode();
          range.setStart(first, 0); range.setEnd(first, 1);
          const line = range.getClientRects()[0];
          return Math.abs(number.bottom - line.bottom);
        })"""
    )
    assert len(gaps) == 4 and max(gaps) <= 4, gaps
    assert _space_above_h1(page) >= 16
    page.screenshot(path=f"/tmp/journey-respond-{width}.png", full_page=True)


def test_the_sign_page_jumps_to_the_form_and_the_done_page_focuses_the_panel(
    campaign, live_server, new_page, link_for
):
    c = campaign["campaign"]
    signoff.freeze(c, campaign["lead"])
    db.session.commit()
    page = _signed_in(new_page, link_for, campaign["head"], 390, 844)
    page.goto(f"{live_server}{BASE}/sign/900001")
    jump = page.get_by_role(
        "link", name="Go to your decision: sign or decline for Saxon High School"
    )
    assert jump.bounding_box()["y"] < 844  # on the first screen
    jump.click()
    heading = page.get_by_role("heading", name="Sign for Saxon High School")
    expect(heading).to_be_in_viewport()
    expect(heading).to_be_focused()
    page.keyboard.press("Tab")  # on into the form
    assert page.evaluate("document.activeElement.name") == "decision"
    page.get_by_role("button", name="Send Saxon High School's answer").click()
    expect(page.locator("h1")).to_have_text("Saxon High School has signed")
    expect(page.locator(".confirmation")).to_be_focused()
    assert_accessible_basics(page)
    page.screenshot(path="/tmp/journey-done-390.png")

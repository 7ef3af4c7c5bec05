"""The strict Content-Security-Policy in Chromium: every key page carries it, and
none of them (their scripts, bars, logo preview, accent sample) trips it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from campaign.demo import load_demo
from campaign.extensions import db
from campaign.security import CONTENT_SECURITY_POLICY
from tests.browser.test_campaign_journeys import CAMPAIGN, HEAD, user

pytestmark = pytest.mark.browser

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2b8a4d80000000049454e44ae426082"
)

WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def watched(page) -> list[str]:
    """Record CSP reports from the console and from securitypolicyviolation events."""
    problems: list[str] = []
    page.context.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return problems


def visit(page, url: str, problems: list[str]) -> None:
    response = page.goto(url)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
    assert response.headers["x-frame-options"] == "DENY"
    page.wait_for_load_state("networkidle")
    problems.extend(f"{url}: {v}" for v in page.evaluate("window.cspViolations"))


@pytest.fixture
def demo(app):
    load_demo(with_signoff=True)
    lead = user("lead@demo.example")
    association = lead.memberships[0].association
    association.logo, association.logo_type, association.accent = PNG, "image/png", "#2a6f2b"
    db.session.commit()


def test_key_pages_raise_no_csp_violation(demo, live_server, new_page, link_for):
    lead = new_page()
    problems = watched(lead)
    link = link_for(user("lead@demo.example"))
    visit(lead, f"{live_server}/sign-in", problems)
    visit(lead, link, problems)
    lead.get_by_role("button", name=re.compile("^Continue as")).click()
    association = "/a/essex-heads"
    for path in (
        f"{association}/",
        f"{association}/schools",
        f"{CAMPAIGN}/",
        f"{CAMPAIGN}/versions",
        f"{CAMPAIGN}/consultation",
        f"{CAMPAIGN}/signoff",
        f"{CAMPAIGN}/letters/",
        f"{association}/settings",
        "/details",
        "/no-such-page",
    ):
        visit(lead, f"{live_server}{path}", problems)

    # What the policy would have broken, had the page relied on inline styles.
    lead.goto(f"{live_server}{association}/settings")
    sample = lead.locator(".accent-sample")
    expect(sample).to_have_css("color", "rgb(42, 111, 43)")
    expect(lead.locator("img.logo-preview")).to_have_css("background-color", "rgb(255, 255, 255)")
    lead.goto(f"{live_server}{CAMPAIGN}/signoff")
    signed = lead.locator("svg.bar rect.agree").first
    assert signed.bounding_box()["width"] > 0
    lead.goto(f"{live_server}{CAMPAIGN}/")
    expect(lead.locator("svg.bar").first).to_be_visible()

    head = new_page(width=360, height=740)
    problems_head = watched(head)
    visit(head, link_for(user(HEAD)), problems_head)
    head.get_by_role("button", name=re.compile("^Continue as")).click()
    visit(head, f"{live_server}{CAMPAIGN}/sign", problems_head)  # her school's sign page
    expect(head.get_by_text("Saxon High School has signed")).to_be_visible()
    visit(head, f"{live_server}{CAMPAIGN}/sign/900001/done", problems_head)

    assert problems == [] and problems_head == []

"""Security headers on every response: pages, downloads, error pages, static files;
and no inline script or style in any template, so the strict CSP holds."""

from __future__ import annotations

import re

import pytest

from campaign.config import PROJECT_ROOT
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters
from campaign.security import CONTENT_SECURITY_POLICY, EMAIL_PREVIEW_POLICY, HSTS
from tests.factories import BASE, sign_in

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_protected(response, csp: str = CONTENT_SECURITY_POLICY) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert response.headers.getlist("Content-Security-Policy") == [csp]


def test_the_policy_allows_only_this_site_and_no_framing():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def test_pages_error_pages_and_static_files_carry_the_headers(client, signoff):
    assert_protected(client.get("/sign-in"))
    assert_protected(client.post("/sign-in", data={"email": "x"}))  # a form with errors
    assert_protected(client.get("/no-such-page"))
    assert_protected(client.get("/static/site.css"))
    assert_protected(client.get("/sign-in/forged-token"))  # 410
    sign_in(client, signoff.lead)
    assert_protected(client.get(f"{BASE}/"))
    assert_protected(client.get(f"{BASE}/signoff"))
    assert_protected(client.get(f"{BASE}/signoff/signatures.csv"))
    assert_protected(client.get(f"{BASE}/consultation/summary.csv"))
    assert_protected(client.get("/a/assoc-b/"))  # 404: another association


def test_a_server_error_page_carries_the_headers(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert_protected(response)


def test_pdf_downloads_and_the_email_preview_carry_the_headers(client, signed):
    render_letters(signed.campaign, Audience.MPS, processes=1)
    db.session.commit()
    letter = dao_letters(signed.campaign.id, Audience.MPS)[0]
    sign_in(client, signed.lead)
    pdf = client.get(f"{BASE}/letters/{letter.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert_protected(pdf)
    client.post(f"{BASE}/letters/mps/print-pack")  # built by the task, at once in tests
    pack = client.get(f"{BASE}/letters/mps/print-pack.pdf")
    assert pack.status_code == 200
    assert_protected(pack)
    # The HTML email as a mail client shows it: inline styles, and nothing else.
    email = client.get(f"{BASE}/letters/{letter.id}/email.html")
    assert email.status_code == 200 and 'style="' in email.get_data(as_text=True)
    assert_protected(email, csp=EMAIL_PREVIEW_POLICY)
    assert "script-src" not in EMAIL_PREVIEW_POLICY  # default-src 'none' covers scripts
    assert "frame-ancestors 'none'" in EMAIL_PREVIEW_POLICY


def test_hsts_outside_development_and_testing(make_app):
    production = make_app(TESTING=False).test_client().get("/sign-in")
    assert production.headers["Strict-Transport-Security"] == HSTS
    assert HSTS == "max-age=31536000; includeSubDomains"
    development = make_app(TESTING=False, DEVELOPMENT=True).test_client().get("/sign-in")
    assert "Strict-Transport-Security" not in development.headers
    testing = make_app().test_client().get("/sign-in")
    assert "Strict-Transport-Security" not in testing.headers


TEMPLATES = sorted((PROJECT_ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_template_has_inline_script_or_style(path):
    """The CSP refuses them, so a page would silently lose its behaviour or looks."""
    source = path.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), "inline <script>"
    assert not re.search(r"<style\b", source), "<style> block"
    assert not re.search(r"<[a-zA-Z][^>]*\sstyle\s*=", source), "style attribute"
    assert not re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", source), "event handler attribute"
    assert "javascript:" not in source.lower()

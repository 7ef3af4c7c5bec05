"""A real Chromium (Debian's, driven by Playwright) against the app served on
127.0.0.1, with CSRF on, so the pages are exercised as a person uses them."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from campaign.auth.services import issue_sign_in_link
from campaign.extensions import db

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# test_every_page.py's table of each page's server time and weight, for the summary.
PAGES_REPORT = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, config) -> None:
    if report := config.stash.get(PAGES_REPORT, ""):
        terminalreporter.write_sep("-", "every page (also in test-artifacts/pages.md)")
        terminalreporter.write_line(report)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI must have Debian's chromium for the browser tests")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test app on a free port, in a thread; returns its base URL."""
    app.config.update(WTF_CSRF_ENABLED=True, BASE_URL="http://127.0.0.1")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(width: int = 1100, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def link_for(live_server):
    """A fresh single-use sign-in link for a user, landing on `next_path`."""

    def make(user, next_path: str = "") -> str:
        link = issue_sign_in_link(user, next_path=next_path)
        db.session.commit()
        return link

    return make


def assert_accessible_basics(page) -> None:
    """lang set, one h1, a skip link to main, no sideways scrolling."""
    assert page.evaluate("document.documentElement.lang") == "en-GB"
    assert page.locator("h1").count() == 1
    assert page.locator("a.skip-link[href='#main']").count() == 1
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

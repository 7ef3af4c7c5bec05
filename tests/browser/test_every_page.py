"""Every HTML page of the app in Chromium, at a phone's size (390×844) and a
desktop's (1280×800), as the person who uses it: axe-core's WCAG 2.2 A and AA rules
find nothing, and each page has its language, one h1, a skip link and no sideways
scroll. The test fails when the app gains an HTML page the sweep does not visit.

One sweep walks the demo campaign through consultation, sign-off and sending once,
for the whole module (its own SQLite database: a second backend would double the
time and test nothing the pages show), then each page and size is its own test.
Full-page screenshots of every page and a table of each page's server time and
weight go to test-artifacts/ (or $SCREENSHOT_DIR), for a person to judge.
"""

from __future__ import annotations

import os
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import url_for
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from campaign import create_app
from campaign.auth.services import issue_sign_in_link
from campaign.extensions import db
from campaign.security import CONTENT_SECURITY_POLICY
from tests.browser.axe import AXE_JS, AXE_VERSION, axe_source, describe, run_axe
from tests.browser.conftest import PAGES_REPORT, assert_accessible_basics
from tests.browser.every_page import (
    ANYONE,
    EXCLUDED,
    HEAD_EMAIL,
    LEAD,
    PAGES,
    ROUTES,
    STAGES,
    VIEWER,
    VIEWER_EMAIL,
    Page,
    World,
    user,
)
from tests.conftest import _config, _migrate

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
LOADS = 10  # server-time samples per page
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or REPO / "test-artifacts")
SCREENS = Path(os.environ.get("SCREENSHOT_DIR") or ARTIFACTS / "screens")


@dataclass
class Visit:
    status: int = 0
    redirected: bool = False
    violations: list[dict] = field(default_factory=list)
    incomplete: list[dict] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    basics: str = ""  # what assert_accessible_basics said, if it failed
    weight: dict = field(default_factory=dict)
    server_ms: list[float] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on a SQLite database of the module's own, served on a free port."""
    url = f"sqlite:///{tmp_path_factory.mktemp('every-page') / 'pages.sqlite3'}"
    _migrate(url)
    config = _config(url, tmp_path_factory.mktemp("outbox"))
    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield app, base
        db.session.remove()
        db.engine.dispose()
    server.shutdown()
    thread.join()


def signed_in_tabs(browser, base: str) -> dict:
    """A tab for each person at each size, signed in by an emailed link."""
    tabs = {}
    people = {LEAD: "lead@demo.example", "head": HEAD_EMAIL, VIEWER: VIEWER_EMAIL}
    for size, (width, height) in SIZES.items():
        for who in (*people, ANYONE):
            tab = browser.new_context(viewport={"width": width, "height": height}).new_page()
            if who != ANYONE:
                link = issue_sign_in_link(user(people[who]))
                db.session.commit()
                tab.goto(link)
                with tab.expect_navigation():
                    tab.get_by_role("button", name=re.compile("^Continue as")).click()
            tabs[who, size] = tab
    return tabs


FACTS = r"""() => ({
  lang: document.documentElement.lang,
  h1s: document.querySelectorAll("h1").length,
  skip_links: document.querySelectorAll("a.skip-link[href='#main']").length,
  scroll_width: document.documentElement.scrollWidth,
  inner_width: window.innerWidth,
  assets: [...document.querySelectorAll("link[rel=stylesheet][href], script[src]")]
    .map((e) => e.href || e.src),
  // What sticks out on the right: the innermost such elements, to name in a failure.
  too_wide: [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .filter((e) => ![...e.children]
      .some((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5))
    .slice(0, 3)
    .map((e) => `${e.tagName.toLowerCase()}${[...e.classList].map((c) => "." + c).join("")}`
      + ` (right edge ${Math.round(e.getBoundingClientRect().right)} px): `
      + e.textContent.trim().replace(/\s+/g, " ").slice(0, 80)),
})"""


def visit(tab, url: str, page: Page, size: str, source: str, asset_sizes: dict) -> Visit:
    response = tab.goto(url)
    found = Visit(status=response.status, redirected=response.request.redirected_from is not None)
    found.facts = tab.evaluate(FACTS)
    results = run_axe(tab, source)
    found.violations, found.incomplete = results["violations"], results["incomplete"]
    if page.site_layout:
        try:
            assert_accessible_basics(tab)
        except AssertionError as exc:
            found.basics = str(exc).splitlines()[0]
    for asset in found.facts["assets"]:
        if asset not in asset_sizes:
            asset_sizes[asset] = len(tab.context.request.get(asset).body())
    found.weight = {
        "html": len(response.body()),
        "assets": sum(asset_sizes[a] for a in found.facts["assets"]),
    }
    tab.screenshot(path=SCREENS / f"{page.id}-{size}.png", full_page=True)
    return found


def server_times(tab, url: str) -> list[float]:
    """Milliseconds from request to the whole response, over LOADS loads (loopback)."""
    times = []
    for _ in range(LOADS):
        started = time.perf_counter()
        tab.context.request.get(url, max_redirects=0).body()
        times.append((time.perf_counter() - started) * 1000)
    return times


@pytest.fixture(scope="module")
def sweep(browser, site, request) -> dict[tuple[str, str], Visit]:
    app, base = site
    SCREENS.mkdir(parents=True, exist_ok=True)
    world, visits, tabs, asset_sizes = World(), {}, {}, {}
    source = axe_source()
    try:
        for _stage, set_up, pages in STAGES:
            set_up(world)
            tabs = tabs or signed_in_tabs(browser, base)
            for page in pages:
                with app.test_request_context():
                    path = page.path or url_for(page.endpoint, **page.args(world))
                for size in SIZES:
                    visits[page.id, size] = visit(
                        tabs[page.who, size], base + path, page, size, source, asset_sizes
                    )
                visits[page.id, "desktop"].server_ms = server_times(
                    tabs[page.who, "desktop"], base + path
                )
    finally:
        for tab in tabs.values():
            tab.context.close()
    report = pages_report(visits)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "pages.md").write_text(report, encoding="utf-8")
    request.config.stash[PAGES_REPORT] = report
    return visits


def pages_report(visits: dict[tuple[str, str], Visit]) -> str:
    """Markdown: each page's server time and weight; then what axe could not decide."""
    lines = [
        f"# Every page: server time over {LOADS} loads, weight on a first visit",
        "",
        "| page | who | status | median ms | p95 ms | HTML KB | CSS+JS KB | total KB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page in PAGES:
        v = visits.get((page.id, "desktop"))
        if v is None:
            continue
        ms = sorted(v.server_ms)
        p95 = statistics.quantiles(ms, n=20, method="inclusive")[18]
        html, assets = v.weight["html"] / 1024, v.weight["assets"] / 1024
        lines.append(
            f"| {page.id} | {page.who} | {v.status} | {statistics.median(ms):.0f} | "
            f"{p95:.0f} | {html:.1f} | {assets:.1f} | {html + assets:.1f} |"
        )
    review: dict[str, list[str]] = {}
    for (page_id, size), v in visits.items():
        for item in v.incomplete:
            review.setdefault(f"{item['id']}: {item['help']}", []).append(
                f"{page_id} ({size}: {', '.join(item['targets'][:3])}"
                + (f" and {len(item['targets']) - 3} more)" if len(item["targets"]) > 3 else ")")
            )
    lines += ["", "## axe could not decide (needs a person's review)", ""]
    lines += [f"- {rule}: {', '.join(where)}" for rule, where in sorted(review.items())] or [
        "- nothing"
    ]
    return "\n".join(lines) + "\n"


# --- the tests -------------------------------------------------------------------


def test_every_html_get_route_is_in_the_sweep(site):
    app, _ = site
    get_routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    missing = get_routes - ROUTES - EXCLUDED.keys()
    assert not missing, f"HTML GET routes the sweep does not visit (add them to PAGES): {missing}"
    assert not (ROUTES | EXCLUDED.keys()) - get_routes, "PAGES or EXCLUDED name a route gone"


def test_the_csp_blocks_add_script_tag_so_axe_is_evaluated(browser):
    """Why tests/browser/axe.py evaluates axe: under the app's policy a script tag
    Playwright adds is inline, and blocked; evaluate is not governed by the policy."""
    context = browser.new_context()
    page = context.new_page()
    html = "<!doctype html><html lang='en-GB'><title>CSP</title><main><img src='data:,'></main>"
    page.route(
        "http://csp.test/",
        lambda route: route.fulfill(
            body=html,
            content_type="text/html",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        ),
    )
    page.goto("http://csp.test/")
    with pytest.raises(PlaywrightError, match="violates the following Content Security Policy"):
        page.add_script_tag(path=AXE_JS)
    assert page.evaluate("typeof window.axe") == "undefined"
    results = run_axe(page)
    assert results["version"] == AXE_VERSION
    assert [v["id"] for v in results["violations"]] == ["image-alt"]  # it does look
    context.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_page(sweep, page, size):
    found = sweep[page.id, size]
    problems = []
    if found.status != page.status or found.redirected:
        problems.append(
            f"status {found.status} (redirected: {found.redirected}), not {page.status}"
        )
    if found.violations:
        problems.append("axe:\n" + describe(found.violations))
    if page.site_layout and found.basics:
        problems.append(f"assert_accessible_basics: {found.basics}")
        problems += [f"    too wide: {e}" for e in found.facts["too_wide"]]
    assert not problems, f"{page.id} at {size}:\n" + "\n".join(problems)

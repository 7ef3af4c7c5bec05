"""The lead renders the demo's MP letters and watches the job through, without a reload."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

import campaign.tasks
from campaign.demo import load_demo
from campaign.extensions import db, huey
from campaign.letters import runs
from tests.browser.conftest import assert_accessible_basics
from tests.browser.test_campaign_journeys import CAMPAIGN, signed_in, user

pytestmark = pytest.mark.browser


@pytest.fixture
def worker(app, monkeypatch):
    """A real queue and a worker the test starts: the job is planned in chunks of 6,
    and the worker holds after the first until `carry_on` is set, so the page can be
    seen mid-way."""
    huey.immediate = False
    huey.flush()
    monkeypatch.setattr(campaign.tasks, "_worker_app", app)
    real_plan = runs.plan
    monkeypatch.setattr(runs, "plan", lambda run: real_plan(run, batch=6))
    carry_on = threading.Event()
    failures: list[BaseException] = []

    def work_the_queue() -> None:
        try:
            huey.execute(huey.dequeue())  # the plan
            huey.execute(huey.dequeue())  # its first chunk
            carry_on.wait(timeout=60)
            while task := huey.dequeue():
                huey.execute(task)
        except BaseException as exc:  # noqa: BLE001  (reported by the test, not lost in a thread)
            failures.append(exc)

    thread = threading.Thread(target=work_the_queue, daemon=True)
    yield {"start": thread.start, "carry_on": carry_on, "failures": failures}
    carry_on.set()
    if thread.is_alive() or thread.ident:
        thread.join(timeout=60)
    huey.flush()
    huey.immediate = True


def test_lead_presses_render_and_sees_progress_then_the_letters(
    app, live_server, new_page, link_for, worker
):
    load_demo(with_signoff=True)
    db.session.commit()
    lead = signed_in(new_page, link_for(user("lead@demo.example")), width=360, height=740)
    lead.goto(f"{live_server}{CAMPAIGN}/letters/")
    mps = lead.locator("section#mps")
    expect(mps).to_contain_text("0 letters rendered")

    mps.get_by_role("button", name="Render the letters").click()
    # At once, before any worker has the job: waiting, with a bar and its numbers.
    expect(mps.locator(".progress-text")).to_have_text("Waiting to start…")
    expect(mps.get_by_role("progressbar")).to_be_visible()
    expect(mps.get_by_role("button", name=re.compile("^Render"))).to_have_count(0)
    assert_accessible_basics(lead)
    lead.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    worker["start"]()
    expect(mps.locator(".progress-text")).to_contain_text("Rendering: 6 of 18 letters")
    expect(mps.get_by_role("progressbar")).to_have_attribute("value", "6")
    worker["carry_on"].set()

    # The other 12 render in two more chunks: on a loaded machine that takes more than
    # the 5 s Playwright waits by default, so wait for the job as long as it holds.
    expect(mps).to_contain_text("18 letters rendered", timeout=60_000)
    expect(mps).to_contain_text("Last render: 18 letters, 18 new or changed and 0 unchanged")
    expect(mps.get_by_role("progressbar")).to_have_count(0)
    expect(mps.get_by_role("button", name="Render again (only changed letters)")).to_be_visible()
    expect(mps.get_by_role("row")).to_have_count(19)  # a header and one row a letter
    expect(mps.locator("[data-result]")).to_be_focused()
    assert lead.evaluate("window.sameDocument") is True
    assert not worker["failures"]
    assert_accessible_basics(lead)

"""The letters page as the lead reads it: the render job's progress, the mail-house
check result and the warnings before rendering."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from campaign import paging
from campaign.directory.models import Role
from campaign.extensions import db, huey
from campaign.formatting import plural
from campaign.letters import runs
from campaign.letters.listing import FAILING_SHOWN
from campaign.letters.models import Audience, ChunkState, RenderChunk, RenderRun
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters
from tests.factories import BASE, make_national_campaign, make_user, sign_in

LETTERS = f"{BASE}/letters"


@pytest.fixture
def queue(app):
    """A real queue instead of running tasks inline: jobs wait until the test runs them."""
    huey.immediate = False
    huey.flush()
    yield
    huey.flush()
    huey.immediate = True


def read(client, path: str = "/") -> str:
    """The page's text as a person reads it: entities decoded, tags and spaces collapsed."""
    return words(html.unescape(client.get(f"{LETTERS}{path}").get_data(as_text=True)))


def section(client, audience: str, query: str = "") -> str:
    body = client.get(f"{LETTERS}/{query}").get_data(as_text=True)
    return html.unescape(re.search(rf'<section id="{audience}">(.*?)</section>', body, re.S)[1])


def words(markup: str) -> str:
    """Text without markup: inline tags vanish, block tags leave a space."""
    markup = re.sub(r"</?(a|code|span|strong)\b[^>]*>", "", markup)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))


def test_render_shows_waiting_at_once_then_the_count_when_the_job_ends(client, signed, queue):
    sign_in(client, signed.lead)
    assert client.post(f"{LETTERS}/mps/render").status_code == 302

    mps = section(client, "mps")
    assert "Waiting to start…" in mps and "<progress" in mps and "0 letters rendered" in mps
    assert "Render the letters" not in mps  # no second job while one is waiting
    assert "Waiting for a worker" not in mps
    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert status["state"] == "queued" and status["finished"] is False
    assert (status["done"], status["total"], status["stale"]) == (0, 0, False)
    assert status["text"] == "Waiting to start…"
    assert client.get(f"{LETTERS}/parents/status.json").get_json()["state"] == "idle"

    while task := huey.dequeue():  # a worker plans the job, then renders its chunks
        huey.execute(task)

    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert (status["state"], status["done"], status["total"]) == ("done", 2, 2)
    assert status["finished"] is True and status["rendered"] == 2
    mps = words(section(client, "mps"))
    assert "2 letters rendered" in mps and "Last render: 2 letters, 2 new or changed" in mps
    assert "Waiting to start" not in mps and "Render again (only changed letters)" in mps


def a_run(
    campaign, audience: Audience, *, ago: float = 0, planned: bool = False, chunks=(), **fields
) -> RenderRun:
    """A render run as the workers leave it, queued `ago` seconds ago (and `planned`
    then); `chunks` are (size, state, seconds since last touched)."""
    now = datetime.now(UTC)
    queued = now - timedelta(seconds=ago)
    if planned:
        fields |= {"started": queued, "planned": queued}
    run = RenderRun(campaign_id=campaign.id, audience=audience, queued=queued, **fields)
    db.session.add(run)
    db.session.flush()
    for size, state, touched in chunks:
        moment = now - timedelta(seconds=touched)
        db.session.add(
            RenderChunk(
                run_id=run.id, items=[], size=size, state=state, touched=moment, lease_until=moment
            )
        )
    db.session.commit()
    return run


def test_a_job_mid_way_shows_its_numbers_on_reload(client, signed):
    sign_in(client, signed.lead)
    chunks = [(1, ChunkState.DONE, 1), (1, ChunkState.RUNNING, 1)]
    a_run(signed.campaign, Audience.PARENTS, ago=2, planned=True, total=2, chunks=chunks)
    status = client.get(f"{LETTERS}/parents/status.json").get_json()
    assert (status["state"], status["done"], status["total"]) == ("running", 1, 2)
    assert status["per_s"] and status["eta_s"] is not None and status["finished"] is False
    assert status["text"].startswith("Rendering: 1 of 2 letters (")
    parents = section(client, "parents")
    assert 'value="1"' in parents and 'max="2"' in parents
    assert "Rendering: 1 of 2 letters (" in parents and "Render the letters" not in parents


def test_a_job_left_queued_asks_whether_a_worker_runs(client, signed):
    sign_in(client, signed.lead)
    a_run(signed.campaign, Audience.MPS, ago=121)
    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert status["stale"] is True and status["waiting_s"] >= 121 and not status["finished"]
    mps = words(section(client, "mps"))
    assert "Waiting for a worker: is make run (or campaign worker) running?" in mps
    assert "Render the letters" in mps  # the lead can queue it again


def test_a_job_whose_worker_died_says_so_and_offers_to_render_the_rest(client, signed):
    sign_in(client, signed.lead)
    # What workers that all died mid-render leave behind: a chunk still held, its
    # lease long run out, and nothing touched since.
    chunks = [(250, ChunkState.DONE, 840), (750, ChunkState.RUNNING, 840)]
    a_run(signed.campaign, Audience.MPS, ago=900, planned=True, total=1000, chunks=chunks)
    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert (status["stale"], status["stalled"], status["finished"]) == (True, True, False)
    assert status["text"] == "Stopped after 250 of 1,000 letters."
    assert status["eta_s"] is None and status["per_s"] is None
    mps = words(section(client, "mps"))
    assert "The worker rendering these letters stopped." in mps
    assert "Render the letters" in mps
    # A job that is working (its worker extends its lease) is not stalled, however long it has run.
    db.session.execute(
        update(RenderChunk)
        .where(RenderChunk.state == ChunkState.RUNNING)
        .values(touched=datetime.now(UTC))
    )
    db.session.commit()
    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert (status["stale"], status["stalled"]) == (False, False)
    assert status["text"].startswith("Rendering: 250 of 1,000 letters")


def test_a_failed_job_shows_its_error(client, signed):
    sign_in(client, signed.lead)
    a_run(signed.campaign, Audience.MPS, error="No signing school has an MP.")
    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert (status["state"], status["finished"]) == ("failed", True)
    mps = words(section(client, "mps"))
    assert "The letters were not rendered No signing school has an MP." in mps
    assert "Render the letters" in mps


def test_the_check_result_for_letters_that_pass_fail_or_are_not_checked(client, signed):
    for audience in Audience:
        render_letters(signed.campaign, audience, processes=1)
    parents = dao_letters(signed.campaign.id, Audience.PARENTS)
    mps = dao_letters(signed.campaign.id, Audience.MPS)
    for letter in parents:
        letter.problems = []
    failing, passing = mps
    failing.problems = [
        "Page 1: text outside the printable areas at 85 mm down: 'Dear Parents'",
        "The address has no valid UK postcode on its last line",
    ]
    passing.problems = None
    db.session.commit()
    sign_in(client, signed.lead)

    parents_text = words(section(client, "parents"))
    assert "✓ 2 letters ready for the post." in parents_text
    assert parents_text.count("✓ Ready") == 2 and "fail" not in parents_text

    mps_html = section(client, "mps")
    mps_text = words(mps_html)
    assert "1 of 2 letters fails the mail-house check and will not be sent or packed:" in mps_text
    assert f'href="{LETTERS}/{failing.id}"' in mps_html
    assert "text outside the printable areas at 85 mm down: 'Dear Parents'" in mps_text
    assert "no valid UK postcode" in mps_text
    assert "1 of 2 letters not checked yet" in mps_text
    assert "Fails Page 1: text outside" in mps_text  # the table's Check column says why
    assert "Not checked yet" in mps_text and "ready for the post" not in mps_text

    failing.problems = None
    db.session.commit()
    mps_text = words(section(client, "mps"))
    assert "Not checked yet: the mail-house check runs" in mps_text
    assert "fails the mail-house check" not in mps_text


def test_warnings_before_rendering_name_what_is_missing_and_where_to_add_it(client, signed):
    sign_in(client, signed.lead)
    page = read(client)
    assert (
        "Your letterhead has no postal address or email yet: letters will go out without them."
        " Add them on the Letterhead page." in page
    )
    assert 'href="/a/assoc-a/settings"' in client.get(f"{LETTERS}/").get_data(as_text=True)
    assert "MP letters are signed with your name and role" in page  # Lena has no job title

    signed.a.address = "1 High Street\nChelmsford\nCM1 1AA"
    db.session.commit()
    page = read(client)
    assert "Your letterhead has no email yet: letters will go out without it." in page

    signed.a.email = "office@a.example"
    signed.lead.job_title = "Chair"
    db.session.commit()
    page = read(client)
    assert "Your letterhead has no" not in page
    assert "MP letters are signed with your name and role" not in page


def test_a_second_lead_is_told_who_signs_and_that_their_role_is_missing(client, signed):
    second = make_user("second@a.example", "Sam Second", signed.a, Role.LEAD)
    second.job_title = "Vice-chair"
    db.session.commit()
    sign_in(client, second)
    page = read(client)
    assert "MP letters are signed by the first lead, " + signed.lead.email in page
    assert "signed with your name and role" not in page


def test_a_job_that_dies_says_so_instead_of_running_for_ever(client, signed, queue, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(runs, "plan", broken)
    sign_in(client, signed.lead)
    client.post(f"{LETTERS}/mps/render")
    task = huey.dequeue()
    with pytest.raises(RuntimeError):
        task.execute()
    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert (status["state"], status["finished"]) == ("failed", True)
    assert "error on our side" in words(section(client, "mps"))


def test_the_list_is_a_page_at_a_time_searched_by_name_and_names_a_few_failing(
    client, association_world, monkeypatch
):
    monkeypatch.setattr(paging, "PER_PAGE", 4)
    campaign = make_national_campaign(association_world, 120)
    sign_in(client, association_world.lead)
    letters = {
        letter.recipient_name: letter.problems
        for letter in dao_letters(campaign.id, Audience.PARENTS)
    }
    failing = [name for name, problems in sorted(letters.items()) if problems]
    assert len(letters) > 40 and len(failing) > FAILING_SHOWN  # the world is big enough

    parents_html = section(client, "parents")
    parents = words(parents_html)
    assert f"{len(letters)} letters rendered, {len(letters)} pages in all." in parents
    assert f"{len(failing)} of {len(letters)} letters fail the mail-house check" in parents
    assert all(f">{name}</a>:" in parents_html for name in failing[:FAILING_SHOWN])
    assert f">{failing[FAILING_SHOWN]}</a>:" not in parents_html
    assert f"and {plural(len(failing) - FAILING_SHOWN, 'more letter')}: each says why" in parents
    assert parents_html.count('data-label="Pages"') == 4
    assert f"Page 1 of {-(-len(letters) // 4)}" in parents
    assert f'<a href="{LETTERS}/?parents_page=2#parents" rel="next">Next page</a>' in parents_html

    second = section(client, "parents", "?parents_page=2")
    names = sorted(letters)
    assert names[4] in second and names[3] not in second

    found = words(section(client, "parents", "?q=school+100005"))
    assert "1 letter to a recipient whose name holds “school 100005”" in found
    # Its row names it twice: the recipient, and (to a screen reader) its PDF link.
    assert found.count("School 100005") == 2 and "School 100006" not in found
    assert "PDF of the letter to School 100005" in found

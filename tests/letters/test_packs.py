"""The print pack: asked for on the page, built by the task into the letter store,
streamed from there once ready, and out of date once its letters change."""

from __future__ import annotations

import csv
import html
import io
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from campaign.directory.models import Role
from campaign.extensions import db, huey
from campaign.letters.models import Audience, PackKind, PackState
from campaign.letters.packs import (
    STALLED_S,
    build,
    build_queued,
    claim,
    dao_letter_keys,
    dao_pack,
    request_pack,
)
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters
from campaign.letters.store import FolderStore, letter_store
from tests.factories import BASE, make_user, sign_in

LETTERS = f"{BASE}/letters"


def _pack(scene, audience: Audience):
    db.session.expire_all()
    return dao_pack(scene.campaign.id, audience, PackKind.LETTERS)


def _page(client) -> str:
    return html.unescape(client.get(f"{LETTERS}/").get_data(as_text=True))


@pytest.mark.parametrize("audience", list(Audience))
def test_the_task_builds_a_pack_of_the_letters_in_order_that_the_page_streams(
    client, rendered, audience, tmp_path
):
    sign_in(client, rendered.lead)
    assert "Build the print pack" in _page(client)
    built = client.post(f"{LETTERS}/{audience.value}/print-pack", follow_redirects=True)
    letters = dao_letters(rendered.campaign.id, audience)
    assert "Building the print pack of 2 letters." in html.unescape(built.get_data(as_text=True))
    pack = _pack(rendered, audience)
    assert pack.state is PackState.READY and (pack.done, pack.total) == (2, 2)
    expected = sum(letter.pages + letter.pages % 2 for letter in letters)
    assert (pack.letters, pack.pages) == (2, expected)
    page = _page(client)
    assert f"Print pack ready: 2 letters, {expected} pages." in page
    assert "Download the print pack (PDF)" in page

    response = client.get(f"{LETTERS}/{audience.value}/print-pack.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.is_streamed
    assert f"{audience.value}-print-pack.pdf" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body == letter_store().get(pack.key)
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == expected
    # Each letter starts on an odd page (a new sheet), in the order of the letters.
    first = 0
    for letter in letters:
        opening = reader.pages[first].extract_text()
        assert letter.merge["address_lines"][0] in opening
        first += letter.pages + letter.pages % 2
    path = tmp_path / "pack.pdf"
    path.write_bytes(body)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    manifest = client.get(f"{LETTERS}/{audience.value}/print-manifest.csv")
    assert manifest.status_code == 200 and manifest.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(manifest.get_data(as_text=True))))
    assert [r["Recipient"] for r in rows] == [letter.recipient_name for letter in letters]
    assert [int(r["Pages"]) for r in rows] == [letter.pages for letter in letters]
    assert rows[0]["First page in pack"] == "1"
    assert int(rows[1]["First page in pack"]) == letters[0].pages + letters[0].pages % 2 + 1


def test_a_form_posted_twice_builds_once(client, rendered):
    sign_in(client, rendered.lead)
    client.post(f"{LETTERS}/mps/print-pack")
    first = _pack(rendered, Audience.MPS)
    token, key = first.token, first.key
    again = client.post(f"{LETTERS}/mps/print-pack", follow_redirects=True)
    assert "Nothing to do: the print pack is being built, or is up to date." in html.unescape(
        again.get_data(as_text=True)
    )
    second = _pack(rendered, Audience.MPS)
    assert (second.token, second.key, second.state) == (token, key, PackState.READY)


def test_a_pack_of_letters_rendered_again_since_is_out_of_date(client, rendered):
    sign_in(client, rendered.lead)
    client.post(f"{LETTERS}/mps/print-pack")
    old_key = _pack(rendered, Audience.MPS).key
    rendered.a.name = "Association A of Essex"  # on every letterhead: every letter changes
    db.session.commit()
    assert render_letters(rendered.campaign, Audience.MPS, processes=1).rendered == 2

    page = _page(client)
    assert "The print pack is out of date: the letters were rendered again" in page
    assert "Build the print pack again" in page
    refused = client.get(f"{LETTERS}/mps/print-pack.pdf")
    assert refused.status_code == 302 and refused.location.endswith("/letters/#mps")
    assert "out of date" in _page(client)
    assert client.get(f"{LETTERS}/mps/print-manifest.csv").status_code == 302
    assert client.get(f"{LETTERS}/mps/print-pack.json").get_json()["current"] is False

    client.post(f"{LETTERS}/mps/print-pack")
    new = _pack(rendered, Audience.MPS)
    assert new.state is PackState.READY and new.key != old_key
    body = client.get(f"{LETTERS}/mps/print-pack.pdf").get_data()
    assert "Association A of Essex" in PdfReader(io.BytesIO(body)).pages[0].extract_text()


def test_a_viewer_sees_and_downloads_the_pack_but_cannot_build_it(client, rendered):
    viewer = make_user("viewer@a.example", "Vic Viewer", rendered.a, Role.VIEWER)
    db.session.commit()
    sign_in(client, viewer)
    assert "Build the print pack" not in _page(client)
    assert client.post(f"{LETTERS}/mps/print-pack").status_code == 403
    assert _pack(rendered, Audience.MPS) is None
    sign_in(client, rendered.lead)
    client.post(f"{LETTERS}/mps/print-pack")
    sign_in(client, viewer)
    assert client.get(f"{LETTERS}/mps/print-pack.pdf").status_code == 200
    assert client.get(f"{LETTERS}/mps/print-pack.json").get_json()["state"] == "ready"


def test_another_association_can_neither_see_nor_download_nor_build_it(client, rendered):
    sign_in(client, rendered.lead)
    client.post(f"{LETTERS}/mps/print-pack")
    sign_in(client, rendered.lead_b)
    for path in ("print-pack.pdf", "print-manifest.csv", "print-pack.json"):
        assert client.get(f"{LETTERS}/mps/{path}").status_code == 404
    assert client.post(f"{LETTERS}/mps/print-pack").status_code == 404
    # Under their own association's URL, our campaign is not theirs either.
    theirs = "/a/assoc-b/campaigns/fair-funding/letters/mps/print-pack.pdf"
    assert client.get(theirs).status_code == 404


def test_the_web_request_only_queues_the_build_and_never_reads_a_pdf(make_app, app, rendered):
    """With a real queue: the request saves the pack and queues its id; the letter
    store is out of reach while it runs, so reading any PDF would fail it."""
    queued = make_app(TASKS_IMMEDIATE=False, LETTER_STORE=app.config["LETTER_STORE"])
    client = queued.test_client()
    huey.flush()
    store = letter_store()
    assert isinstance(store, FolderStore)
    away = store.root.with_name(store.root.name + "-away")
    sign_in(client, rendered.lead)
    store.root.rename(away)
    try:
        response = client.post(f"{LETTERS}/parents/print-pack")
        assert response.status_code == 302
        status = client.get(f"{LETTERS}/parents/print-pack.json").get_json()
        assert (status["state"], status["done"], status["total"]) == ("queued", 0, 2)
        assert "Waiting to start" in _page(client)
    finally:
        away.rename(store.root)
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())  # as `campaign worker` does
    assert _pack(rendered, Audience.PARENTS).state is PackState.READY
    assert client.get(f"{LETTERS}/parents/print-pack.pdf").status_code == 200
    huey.immediate = True  # as the suite's other apps run


def test_a_build_whose_worker_stopped_can_be_asked_again_and_the_old_worker_changes_nothing(
    client, rendered
):
    campaign = rendered.campaign
    keys = dao_letter_keys(campaign.id, Audience.MPS)
    pack = request_pack(campaign.id, Audience.MPS, PackKind.LETTERS, keys)
    db.session.commit()
    old_token = claim(pack.id)
    assert old_token and claim(pack.id) is None  # taken once
    # The worker said nothing for longer than a batch could take: it is gone.
    pack.updated = datetime.now(UTC) - timedelta(seconds=STALLED_S + 1)
    db.session.commit()
    sign_in(client, rendered.lead)
    assert "The worker building the print pack stopped" in _page(client)
    assert request_pack(campaign.id, Audience.MPS, PackKind.LETTERS, keys) is not None
    db.session.commit()

    build(pack.id, old_token)  # the old worker, carrying on after all
    replaced = _pack(rendered, Audience.MPS)
    assert (replaced.state, replaced.done, replaced.key) == (PackState.QUEUED, 0, "")
    build_queued(pack.id)  # the new build's task
    assert _pack(rendered, Audience.MPS).state is PackState.READY

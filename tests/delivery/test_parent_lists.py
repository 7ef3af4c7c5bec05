"""A school's parents' list: uploaded by its head, refused whole if a row is bad,
deleted once the send takes it."""

from __future__ import annotations

import html
import io

from sqlalchemy import select

from campaign.delivery.models import ParentList
from campaign.delivery.outbox import build_outbox
from campaign.extensions import db
from campaign.letters.models import Audience
from tests.factories import sign_in

PAGE = "/a/assoc-a/campaigns/fair-funding/parents"


def upload(client, urn, text: str, name="parents.csv"):
    data = {"file": (io.BytesIO(text.encode()), name)}
    return client.post(f"{PAGE}/{urn}", data=data, content_type="multipart/form-data",
                       follow_redirects=True)  # fmt: skip


def saved() -> list[ParentList]:
    db.session.expire_all()
    return db.session.scalars(select(ParentList)).all()


def test_a_head_uploads_the_list_for_their_signed_school(client, closed):
    sign_in(client, closed["exec"])
    page = client.get(f"{PAGE}/900001")
    assert "Upload the list for Saxon High" in page.text
    response = upload(client, 900001, "Name,Email\nA,a@home.example\nB,B@Home.example\n"
                                      "A again,A@home.example\n,\n")  # fmt: skip
    assert "2 addresses saved for Saxon High" in response.text
    (kept,) = saved()
    assert kept.count == 2 and sorted(kept.emails) == ["B@home.example", "a@home.example"]
    assert "A list of 2 addresses is ready" in response.text


def test_a_bad_row_refuses_the_whole_file_and_names_the_line(client, closed):
    sign_in(client, closed["exec"])
    response = upload(client, 900001, "Email\nok@home.example\nnot-an-address\n")
    assert response.status_code == 200
    expected = 'Line 3: "not-an-address" is not an email address. Nothing was saved.'
    assert expected in html.unescape(response.text)
    assert saved() == []


def test_a_file_without_an_email_column_is_refused(client, closed):
    sign_in(client, closed["exec"])
    response = upload(client, 900001, "Name,Phone\nA,0123\n")
    assert 'it has no "Email" column' in html.unescape(response.text) and saved() == []


def test_only_a_school_that_signed_and_only_its_heads(client, closed):
    sign_in(client, closed["exec"])
    # Abbey declined: no list.
    response = upload(client, 900002, "Email\na@home.example\n")
    assert "can upload a parents' list once it has signed" in html.unescape(response.text)
    # Thurrock is not Eve's school.
    assert client.get(f"{PAGE}/900003").status_code == 404
    assert upload(client, 900003, "Email\na@home.example\n").status_code == 404
    assert saved() == []


def test_after_the_send_takes_it_only_the_count_stays(client, closed):
    sign_in(client, closed["lead"])  # the lead may upload for any member school
    upload(client, 900003, "Email\none@home.example\ntwo@home.example\n")
    build_outbox(closed["campaign"], Audience.PARENTS)
    db.session.commit()
    (kept,) = saved()
    assert kept.emails is None and kept.count == 2
    page = client.get(f"{PAGE}/900003")
    assert "The letter went to 2 addresses; the addresses were then deleted" in page.text


def test_no_list_can_be_added_once_the_parents_letters_are_sent(client, closed):
    build_outbox(closed["campaign"], Audience.PARENTS)
    db.session.commit()
    sign_in(client, closed["exec"])
    page = html.unescape(client.get(f"{PAGE}/900001").text)
    assert "a list can no longer be added" in page and "Upload the list" not in page
    response = upload(client, 900001, "Email\nlate@home.example\n")
    assert "a list can no longer be added" in html.unescape(response.text)
    assert saved() == []

"""A school's parents' list: uploaded by its head, refused whole if a row is bad,
deleted once the send takes it."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import select

from benchmarks.make_parent_list import largest_parent_list
from campaign.delivery import parents
from campaign.delivery.models import ParentList
from campaign.delivery.outbox import build_outbox
from campaign.extensions import db
from campaign.letters.models import Audience
from tests.factories import sign_in

PAGE = "/a/assoc-a/campaigns/fair-funding/parents"


def upload(client, urn, text: str | bytes, name="parents.csv"):
    content = text.encode() if isinstance(text, str) else text
    data = {"file": (io.BytesIO(content), name)}
    return client.post(f"{PAGE}/{urn}", data=data, content_type="multipart/form-data",
                       follow_redirects=True)  # fmt: skip


def saved() -> list[ParentList]:
    db.session.expire_all()
    return db.session.scalars(select(ParentList)).all()


def test_a_head_uploads_the_list_for_their_signed_school(client, closed):
    sign_in(client, closed.exec)
    page = client.get(f"{PAGE}/900001")
    assert "Upload the list for Saxon High" in page.text
    response = upload(client, 900001, "Name,Email\nA,a@home.example\nB,B@Home.example\n"
                                      "A again,A@home.example\n,\n")  # fmt: skip
    assert "2 addresses saved for Saxon High" in response.text
    (kept,) = saved()
    assert kept.count == 2 and sorted(kept.emails) == ["B@home.example", "a@home.example"]
    assert "A list of 2 addresses is ready" in response.text


def test_a_bad_row_refuses_the_whole_file_and_names_the_line(client, closed):
    sign_in(client, closed.exec)
    response = upload(client, 900001, "Email\nok@home.example\nnot-an-address\n")
    assert response.status_code == 200
    expected = 'Line 3: "not-an-address" is not an email address. Nothing was saved.'
    assert expected in html.unescape(response.text)
    assert saved() == []


def test_a_file_without_an_email_column_is_refused(client, closed):
    sign_in(client, closed.exec)
    response = upload(client, 900001, "Name,Phone\nA,0123\n")
    assert 'it has no "Email" column' in html.unescape(response.text) and saved() == []


def test_only_a_school_that_signed_and_only_its_heads(client, closed):
    sign_in(client, closed.exec)
    # Abbey declined: no list.
    response = upload(client, 900002, "Email\na@home.example\n")
    assert "can upload a parents' list once it has signed" in html.unescape(response.text)
    # Thurrock is not Eve's school.
    assert client.get(f"{PAGE}/900003").status_code == 404
    assert upload(client, 900003, "Email\na@home.example\n").status_code == 404
    assert saved() == []


def test_after_the_send_takes_it_only_the_count_stays(client, closed):
    sign_in(client, closed.lead)  # the lead may upload for any member school
    upload(client, 900003, "Email\none@home.example\ntwo@home.example\n")
    build_outbox(closed.campaign, Audience.PARENTS)
    db.session.commit()
    (kept,) = saved()
    assert kept.emails is None and kept.count == 2
    page = client.get(f"{PAGE}/900003")
    assert "The letter went to 2 addresses; the addresses were then deleted" in page.text


def test_no_list_can_be_added_once_the_parents_letters_are_sent(client, closed):
    build_outbox(closed.campaign, Audience.PARENTS)
    db.session.commit()
    sign_in(client, closed.exec)
    page = html.unescape(client.get(f"{PAGE}/900001").text)
    assert "a list can no longer be added" in page and "Upload the list" not in page
    response = upload(client, 900001, "Email\nlate@home.example\n")
    assert "a list can no longer be added" in html.unescape(response.text)
    assert saved() == []


# --- bounds: bytes, rows and addresses before any address is checked ------------------


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xef\xbb\xbf", "The file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "The file is empty"),
        (b"\xef\xbb\xbfEmail\r\n", "The list has no email addresses."),
        (b"Email\n" + b"a@home.example\n" * 20_001, "The list has more than 20,000 rows."),
        (b"Email\n" + b"".join(b"p%d@home.example\n" % n for n in range(10_001)),
         "The list has more than 10,000 addresses."),
        (b"Email\nok@home.example\nbad\x00@home.example\n", "Line 3"),
    ],
    ids=["bom", "bom-and-blank-lines", "bom-and-header", "20001-rows", "10001-addresses", "nul"],
)  # fmt: skip
def test_a_list_out_of_bounds_is_refused_with_a_message(client, closed, content, message):
    sign_in(client, closed.exec)
    response = upload(client, 900001, content)
    assert response.status_code == 200
    assert message in html.unescape(response.text) and "Nothing was saved." in response.text
    assert saved() == []


def test_a_list_over_five_megabytes_is_refused_before_it_is_read(client, closed):
    sign_in(client, closed.exec)
    content = b"Email\n" + b"a@home.example\n" * (parents.MAX_LIST_BYTES // 15 + 10_000)
    response = upload(client, 900001, content)
    assert response.status_code == 413
    assert "Files can be at most 5 MB." in response.text and saved() == []


def test_a_list_repeating_one_address_checks_it_once(client, closed, monkeypatch):
    checked = []
    real = parents.validate_email
    monkeypatch.setattr(
        parents, "validate_email", lambda raw, **kw: checked.append(raw) or real(raw, **kw)
    )
    sign_in(client, closed.exec)
    response = upload(client, 900001, "Email\n" + "Parent@Home.example\n" * parents.MAX_ROWS)
    assert "1 addresses saved for Saxon High" in response.text
    assert checked == ["Parent@Home.example"]


def test_the_largest_list_allowed_is_saved_whole(client, closed):
    """10,000 distinct addresses as long as addresses go, 20,000 rows, 5 MB (how long
    it takes is measured by benchmarks/parent_list.py)."""
    content = largest_parent_list()
    assert parents.MAX_LIST_BYTES - 20_000 < len(content) <= parents.MAX_LIST_BYTES
    sign_in(client, closed.exec)
    response = upload(client, 900001, content)
    assert "10,000 addresses saved for Saxon High" in response.text

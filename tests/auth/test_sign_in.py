"""Passwordless sign-in: single-use, expiring, hashed links consumed by POST."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaign.auth.models import LoginToken
from campaign.auth.services import issue_sign_in_link
from campaign.extensions import db, huey
from tests.factories import links_in, make_association, make_user


def path_of(link: str) -> str:
    return link.replace("http://localhost", "")


@pytest.fixture
def member(app):
    association = make_association(slug="essex")
    user = make_user("jane@oakfield.example", "Jane Smith", association)
    db.session.commit()
    return user


def test_known_address_gets_a_working_link_by_email(client, member, outbox):
    response = client.post("/sign-in", data={"email": " Jane@Oakfield.example "})
    assert response.status_code == 302 and response.location == "/sign-in/sent"
    [message] = outbox()
    assert message["To"] == "jane@oakfield.example"
    assert message["Subject"] == "Your sign-in link"
    [link] = links_in(message)
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert b"Continue as Jane Smith" in page.data
    assert client.post(path_of(link)).status_code == 302
    assert client.get("/a/essex/").status_code == 200


def test_unknown_address_gets_the_same_answer_and_no_email(client, member, outbox):
    known = client.post("/sign-in", data={"email": "jane@oakfield.example"})
    unknown = client.post("/sign-in", data={"email": "nobody@nowhere.example"})
    assert (unknown.status_code, unknown.location, unknown.data) == (
        known.status_code,
        known.location,
        known.data,
    )
    assert [m["To"] for m in outbox()] == ["jane@oakfield.example"]


def test_request_does_the_same_work_for_known_and_unknown_addresses(client, member, outbox):
    """The request only queues a task, so its timing cannot tell the two apart."""
    huey.immediate = False
    huey.flush()
    try:
        client.post("/sign-in", data={"email": "jane@oakfield.example"})
        client.post("/sign-in", data={"email": "nobody@nowhere.example"})
        assert huey.pending_count() == 2
        assert outbox() == []
        assert db.session.scalar(select(LoginToken)) is None
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
        assert [m["To"] for m in outbox()] == ["jane@oakfield.example"]
    finally:
        huey.flush()
        huey.immediate = True


def test_only_the_hash_is_stored(app, member):
    link = issue_sign_in_link(member)
    db.session.commit()
    raw = link.rsplit("/", 1)[1]
    assert len(raw) >= 43  # token_urlsafe(32)
    stored = db.session.scalar(select(LoginToken))
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.token_hash, stored.next_path, stored.purpose}


def test_get_alone_does_not_consume_the_link(client, member):
    link = path_of(issue_sign_in_link(member))
    db.session.commit()
    for _ in range(3):  # a mail scanner following the link
        assert client.get(link).status_code == 200
    assert db.session.scalar(select(LoginToken.used)) is None
    assert client.get("/a/essex/").status_code == 302  # still signed out
    assert client.post(link).status_code == 302


def test_link_is_single_use(app, member):
    link = path_of(issue_sign_in_link(member))
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    assert first.post(link).status_code == 302
    again = second.post(link)
    assert again.status_code == 410
    assert b"This link no longer works" in again.data
    assert second.get("/a/essex/").status_code == 302
    assert second.get(link).status_code == 410


def test_link_expires_after_30_minutes(client, member):
    link = path_of(issue_sign_in_link(member))
    token = db.session.scalar(select(LoginToken))
    assert token.expires - datetime.now(UTC) <= timedelta(minutes=30)
    token.expires = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert client.get(link).status_code == 410
    assert client.post(link).status_code == 410


def test_forged_link_is_refused(client, member):
    assert client.get("/sign-in/not-a-real-token").status_code == 410
    assert client.post("/sign-in/not-a-real-token").status_code == 410


def test_invalid_email_shows_error_and_keeps_input(client, member, outbox):
    response = client.post("/sign-in", data={"email": "jane at oakfield"})
    assert response.status_code == 200
    assert b"There is a problem" in response.data
    assert b'href="#email"' in response.data
    assert b'value="jane at oakfield"' in response.data
    assert outbox() == []


def test_csrf_token_is_required(app, member, outbox):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    refused = client.post("/sign-in", data={"email": "jane@oakfield.example"})
    assert refused.status_code == 400
    assert b"The form had expired" in refused.data
    link = path_of(issue_sign_in_link(member))
    db.session.commit()
    assert client.post(link).status_code == 400  # no token: the link is not consumed
    assert db.session.scalar(select(LoginToken.used)) is None
    page = client.get(link).data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(link, data={"csrf_token": token}).status_code == 302
    assert outbox() == []


def test_session_cookie_is_httponly_lax_and_secure_outside_development(app, member):
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    link = path_of(issue_sign_in_link(member))
    db.session.commit()
    response = client.post(link)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_sign_out_needs_a_post(client, member):
    link = path_of(issue_sign_in_link(member))
    db.session.commit()
    client.post(link)
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out").status_code == 302
    assert client.get("/a/essex/").status_code == 302


def test_the_link_returns_to_the_page_that_asked_for_sign_in(client, member, outbox):
    response = client.get("/a/essex/")
    assert response.status_code == 302 and "next=" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/a/essex/"' in page
    client.post("/sign-in", data={"email": "jane@oakfield.example", "next": "/a/essex/"})
    [link] = links_in(outbox()[-1])
    assert client.post(path_of(link)).location == "/a/essex/"

"""Sessions end on the server: signing out ends every copy of the cookie; signing
in starts a fresh session; CSRF tokens expire."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from campaign.extensions import db
from tests.factories import make_association, make_user, sign_in


@pytest.fixture
def member(app):
    user = make_user("jane@oakfield.example", "Jane Smith", make_association(slug="essex"))
    db.session.commit()
    return user


def copy_cookie(source, target) -> None:
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value, domain=cookie.domain)


def test_a_cookie_copied_before_sign_out_is_refused_after(app, member):
    laptop, thief = app.test_client(), app.test_client()
    sign_in(laptop, member)
    copy_cookie(laptop, thief)
    assert thief.get("/a/essex/").status_code == 200  # the copy works while signed in
    assert laptop.post("/sign-out").status_code == 302
    for client in (thief, laptop):
        response = client.get("/a/essex/")
        assert response.status_code == 302 and response.location.startswith("/sign-in")


def test_signing_out_ends_the_persons_other_sessions(app, member):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, member)
    sign_in(laptop, member)
    laptop.post("/sign-out")
    assert phone.get("/a/essex/").status_code == 302
    sign_in(phone, member)  # and signing in again works
    assert phone.get("/a/essex/").status_code == 200


def test_a_session_without_the_version_is_not_signed_in(app, member):
    """A session saved before versions existed, or forged with only a user id."""
    client = app.test_client()
    sign_in(client, member)
    with client.session_transaction() as session:
        del session["session_version"]
    assert client.get("/a/essex/").status_code == 302


def test_signing_in_starts_a_fresh_session(app, member):
    client = app.test_client()
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["csrf_token"] = "a token an attacker knows"
    sign_in(client, member)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "a token an attacker knows"
        assert session["session_version"] == member.session_version


def test_csrf_tokens_expire_after_eight_hours(app, member):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    with client.session_transaction() as session:
        raw = session["csrf_token"]

    class NineHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 9 * 3600

    old = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=NineHoursAgo)
    refused = client.post(
        "/sign-in", data={"email": "jane@oakfield.example", "csrf_token": old.dumps(raw)}
    )
    assert refused.status_code == 400
    assert b"The form had expired" in refused.data
    accepted = client.post("/sign-in", data={"email": "jane@oakfield.example", "csrf_token": fresh})
    assert accepted.status_code == 302

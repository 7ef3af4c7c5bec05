"""The error pages: a bug shows a styled page with a reference the log also holds."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from campaign.extensions import db
from tests.factories import make_association, make_user, sign_in


@pytest.fixture
def broken_app(make_app):
    """An app with routes that fail, answering as in production (no propagation)."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/broken")
    def broken():
        raise RuntimeError("the printer is on fire")

    @app.get("/broken-query")
    def broken_query():
        # Fails before anything loads the signed-in user: the page's header will.
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
        return "unreachable"

    with app.app_context():
        yield app


def test_an_unexpected_error_shows_a_styled_page_and_logs_its_reference(broken_app, caplog):
    with caplog.at_level(logging.ERROR):
        response = broken_app.test_client().get("/broken")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "<h1>Sorry, something went wrong</h1>" in page
    assert "Nothing was changed" in page and 'class="site-header"' in page
    reference = re.search(r"tell us the reference <strong>([0-9A-F]{8})</strong>", page)[1]
    [record] = [r for r in caplog.records if reference in r.getMessage()]
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    assert "the printer is on fire" not in page


def test_each_error_gets_its_own_reference(broken_app):
    client = broken_app.test_client()
    pages = [client.get("/broken").get_data(as_text=True) for _ in range(2)]
    references = {re.search(r"reference <strong>(\w+)</strong>", p)[1] for p in pages}
    assert len(references) == 2


def test_a_failed_query_still_shows_the_page_to_a_signed_in_user(broken_app):
    """The session is rolled back, so the header can load who is signed in."""
    user = make_user("lena@a.example", "Lena Lead", make_association())
    db.session.commit()
    client = broken_app.test_client()
    sign_in(client, user)
    response = client.get("/broken-query")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Sorry, something went wrong" in page
    assert "Sign out" in page and "Signed in as Lena Lead" in page


def test_http_errors_keep_their_own_pages(broken_app):
    client = broken_app.test_client()
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and b"Page not found" in missing.data
    wrong_method = client.post("/broken")
    assert (
        wrong_method.status_code == 405 and b"Sorry, something went wrong" not in wrong_method.data
    )

"""The development outbox page: where a person clicks their sign-in link locally."""

from __future__ import annotations

from campaign.extensions import db
from tests.factories import make_association, make_user


def test_outbox_page_lists_sign_in_links_in_development(make_app):
    app = make_app(DEVELOPMENT=True)
    with app.app_context():
        make_user("jane@oakfield.example", "Jane Smith", make_association())
        db.session.commit()
        client = app.test_client()
        client.post("/sign-in", data={"email": "jane@oakfield.example"})
        page = client.get("/dev/outbox").get_data(as_text=True)
        assert "Your sign-in link" in page and "jane@oakfield.example" in page
        assert 'href="http://localhost/sign-in/' in page


def test_outbox_page_does_not_exist_outside_development(client):
    assert client.get("/dev/outbox").status_code == 404

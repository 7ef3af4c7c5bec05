"""Your details: every signed-in person sets the name and role letters sign with."""

from __future__ import annotations

import pytest

from campaign.directory.models import Role, User
from campaign.extensions import db
from tests.factories import BASE, make_association, make_user, sign_in


@pytest.fixture
def lead(app):
    association = make_association(slug="essex", name="Essex Heads")
    user = make_user("lena@essex.example", "Lena Lead", association, Role.LEAD)
    db.session.commit()
    return user


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_page_shows_the_saved_details(client, lead):
    lead.job_title = "Chair"
    db.session.commit()
    sign_in(client, lead)
    page = client.get("/details")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Your details</h1>" in html
    assert 'value="Lena Lead"' in html and 'value="Chair"' in html
    assert "Your role, as it appears on letters" in html


def test_saving_stores_the_details_and_returns_to_the_page(client, lead):
    sign_in(client, lead)
    response = client.post(
        "/details",
        data={"name": "  Lena   Lead-Smith ", "job_title": "Headteacher, Glebe High School"},
    )
    assert response.status_code == 302 and response.location == "/details"
    user = reload(lead)
    assert (user.name, user.job_title) == ("Lena Lead-Smith", "Headteacher, Glebe High School")
    assert "Your details are saved." in client.get("/details").get_data(as_text=True)


def test_saving_returns_to_a_page_of_this_app_only(client, lead):
    sign_in(client, lead)
    details = {"name": "Lena Lead", "job_title": "Chair"}
    back = client.post("/details", data={**details, "next": "/a/essex/campaigns/"})
    assert back.location == "/a/essex/campaigns/"
    away = client.post("/details", data={**details, "next": "//evil.example/"})
    assert away.location == "/details"


def test_the_page_remembers_where_it_was_opened_from(client, lead):
    sign_in(client, lead)
    linked = client.get(
        "/details", headers={"Referer": "http://localhost/a/essex/campaigns/x/letters/"}
    )
    assert 'name="next" type="hidden" value="/a/essex/campaigns/x/letters/"' in linked.get_data(
        as_text=True
    )
    elsewhere = client.get("/details", headers={"Referer": "http://evil.example/a/essex/"})
    assert 'type="hidden" value=""' in elsewhere.get_data(as_text=True)


def test_a_blank_name_is_refused_and_nothing_changes(client, lead):
    sign_in(client, lead)
    response = client.post("/details", data={"name": "   ", "job_title": "Chair"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "Enter your name" in html
    assert 'value="Chair"' in html  # the form keeps what was typed
    user = reload(lead)
    assert (user.name, user.job_title) == ("Lena Lead", "")


def test_too_long_details_are_refused(client, lead):
    sign_in(client, lead)
    response = client.post("/details", data={"name": "L" * 201, "job_title": "C" * 201})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your name must be 200 characters or fewer" in html
    assert "Your role must be 200 characters or fewer" in html
    assert reload(lead).name == "Lena Lead"


def test_the_page_needs_sign_in(client, lead):
    response = client.get("/details")
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    assert client.post("/details", data={"name": "Mallory"}).status_code == 302
    assert reload(lead).name == "Lena Lead"


def test_a_head_sets_their_details_too(client, lead):
    head = make_user("hal@glebe.example", "", lead.memberships[0].association, Role.HEAD)
    db.session.commit()
    sign_in(client, head)
    assert client.get("/details").status_code == 200
    response = client.post("/details", data={"name": "Hal Head", "job_title": "Headteacher"})
    assert response.status_code == 302
    assert (reload(head).name, reload(head).job_title) == ("Hal Head", "Headteacher")


def test_every_signed_in_page_links_to_your_details(client, lead):
    sign_in(client, lead)
    html = client.get("/a/essex/").get_data(as_text=True)
    assert '<a href="/details?next=/a/essex/">Your details</a>' in html


def test_the_letters_page_sends_a_lead_without_a_role_here_and_back(client, signed):
    letters = f"{BASE}/letters/"
    sign_in(client, signed.lead)
    page = client.get(letters).get_data(as_text=True)
    assert f'add them on <a href="/details?next={letters}">Your details</a>' in page
    form = client.get("/details", headers={"Referer": f"http://localhost{letters}"})
    assert f'value="{letters}"' in form.get_data(as_text=True)
    saved = client.post(
        "/details", data={"name": "Lena Lead", "job_title": "Chair", "next": letters}
    )
    assert saved.location == letters
    assert 'id="details-warning"' not in client.get(letters).get_data(as_text=True)

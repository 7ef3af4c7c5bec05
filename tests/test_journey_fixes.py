"""Rough edges in the people's journeys, each pinned by what a person would see."""

from __future__ import annotations

import re

from campaign.auth.services import issue_sign_in_link
from campaign.extensions import db
from tests.factories import make_association, make_headship, make_school, make_user


def _h1(html: str) -> str:
    [h1] = re.findall(r"<h1>(.*?)</h1>", html, flags=re.S)
    return " ".join(h1.split())


# --- 1. the sign-in confirmation names each school once ------------------------------


def _confirm_page(client, user) -> str:
    link = issue_sign_in_link(user)
    db.session.commit()
    page = client.get(link.replace("http://localhost", ""))
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_head_on_three_rosters_sees_the_school_once_with_its_associations(app, client):
    essex = make_association(slug="essex", name="Essex Heads")
    thurrock = make_association(slug="thurrock", name="Thurrock Heads")
    east = make_association(slug="east", name="East Heads")
    grace = make_user("grace@saxon.example", "Grace Vaughan")
    for association in (essex, thurrock, east):
        school = make_school(association, urn=137001, name="Saxon High School")
        make_headship(association, grace, school, "Principal")
    assert _h1(_confirm_page(client, grace)) == (
        "Continue as Grace Vaughan, principal of Saxon High School "
        "(Essex Heads, Thurrock Heads and East Heads)"
    )


def test_schools_in_one_association_are_listed_without_it(app, client):
    essex = make_association(slug="essex", name="Essex Heads")
    eve = make_user("eve@saxon.example", "Eve Exec")
    for urn, name in ((137001, "Saxon High"), (137002, "Abbey Academy"), (137003, "Hill School")):
        make_headship(essex, eve, make_school(essex, urn=urn, name=name), "Executive Headteacher")
    assert _h1(_confirm_page(client, eve)) == (
        "Continue as Eve Exec, executive headteacher of Saxon High, Abbey Academy and Hill School"
    )


def test_two_schools_in_two_associations_are_each_named_with_theirs(app, client):
    essex = make_association(slug="essex", name="Essex Heads")
    thurrock = make_association(slug="thurrock", name="Thurrock Heads")
    hal = make_user("hal@example.org", "Hal Head")
    make_headship(essex, hal, make_school(essex, urn=137001, name="Saxon High"))
    make_headship(thurrock, hal, make_school(thurrock, urn=137002, name="Abbey Academy"))
    assert _h1(_confirm_page(client, hal)) == (
        "Continue as Hal Head, headteacher of Saxon High (Essex Heads) "
        "and Abbey Academy (Thurrock Heads)"
    )

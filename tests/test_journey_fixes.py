"""Rough edges in the people's journeys, each pinned by what a person would see."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from campaign.auth.services import issue_sign_in_link
from campaign.consultation import services as consultation_services
from campaign.consultation import steps as consultation_steps
from campaign.consultation.models import Reminder
from campaign.consultation.reminders import REMINDER_INTERVAL, ReminderSentRecently
from campaign.directory.models import Role, User
from campaign.drafting.services import create_campaign
from campaign.extensions import db
from campaign.signoff import services as signoff_services
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import AuditEvent
from tests.factories import make_association, make_headship, make_school, make_user, sign_in


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


# --- 7. a second reminder within a day asks first ------------------------------------

BASE = "/a/assoc-a/campaigns/fair-funding"


def _association_with_a_campaign():
    """Association A: a lead, two heads of three schools (two in Essex, one in Thurrock),
    and a campaign in consultation that nobody has answered."""
    a = make_association(slug="assoc-a", name="Association A")
    lead = make_user("lead@a.example", "Lena Lead", a, Role.LEAD)
    exec_head = make_user("exec@a.example", "Eve Exec", a, Role.HEAD)
    head = make_user("head@a.example", "Hal Head", a, Role.HEAD)
    make_headship(
        a, exec_head, make_school(a, urn=900001, name="Saxon High", local_authority="Essex")
    )
    make_headship(
        a, exec_head, make_school(a, urn=900002, name="Abbey Academy", local_authority="Essex")
    )
    make_headship(
        a, head, make_school(a, urn=900003, name="Thurrock School", local_authority="Thurrock")
    )
    campaign = create_campaign(a, "Fair funding", body="# Fair funding\n\nWe ask.", author=lead)
    db.session.flush()
    consultation_services.open_consultation(campaign)
    return campaign, lead


@pytest.fixture(params=["consultation", "signoff"])
def reminding(request, app, client):
    """A lead signed in on a campaign in consultation or in sign-off: where its
    dashboard is and where its reminder form posts."""
    campaign, lead = _association_with_a_campaign()
    if request.param == "signoff":
        signoff_services.freeze(campaign, lead)
    db.session.commit()
    sign_in(client, lead)
    if request.param == "signoff":
        return {
            "campaign": campaign,
            "dashboard": f"{BASE}/signoff",
            "post": f"{BASE}/signoff/chase",
        }
    return {"campaign": campaign, "dashboard": f"{BASE}/consultation", "post": f"{BASE}/reminders"}


def _press(client, where, batch, la="", **extra):
    return client.post(where["post"], data={"batch": batch, "la": la, "constituency": "", **extra})


def _text(client, path) -> str:
    return " ".join(client.get(path).get_data(as_text=True).split())


def test_the_dashboard_says_when_the_last_reminder_went_and_to_how_many(client, reminding, outbox):
    assert "The last reminder went" not in _text(client, reminding["dashboard"])
    _press(client, reminding, "press-1")
    assert len(outbox()) == 2
    page = _text(client, reminding["dashboard"])
    # Said once: as the last reminder, or (on the same schools) as the one that went today.
    assert re.search(r"A reminder went to 2 heads at \d{1,2}(:\d\d)?[ap]m today\.", page)
    assert "The last reminder went" not in page


def test_a_second_press_from_another_tab_sends_nothing_and_asks(client, reminding, outbox):
    _press(client, reminding, "press-1")
    again = _press(client, reminding, "press-2")  # a page loaded before the first press
    assert again.status_code == 302
    assert again.location.endswith("#no-answer")
    assert len(outbox()) == 2  # nobody mailed twice
    page = _text(client, again.location)
    assert re.search(
        r"A reminder went to 2 heads at \d{1,2}(:\d\d)?[ap]m today\. Send another\?", page
    )
    assert "Send another reminder to 2 heads of these schools" in page
    assert '<input type="hidden" name="confirm" value="1">' in page


def test_the_lead_can_confirm_another_reminder(client, reminding, outbox):
    _press(client, reminding, "press-1")
    _press(client, reminding, "press-2", confirm="1")
    assert len(outbox()) == 4
    assert "Reminders are going to 2 heads" in _text(client, reminding["dashboard"])


def test_the_same_press_posted_twice_is_one_reminder_and_no_question(client, reminding, outbox):
    _press(client, reminding, "press-1")
    again = _press(client, reminding, "press-1")
    assert len(outbox()) == 2
    page = _text(client, again.location)
    assert '<div class="notice" role="status">Reminders are going to 2 heads' in page
    assert '<div class="notice" role="status">A reminder went' not in page


def test_another_selection_is_not_held_back(client, reminding, outbox):
    _press(client, reminding, "press-1", la="Essex")
    _press(client, reminding, "press-2", la="Thurrock")
    assert sorted(m["To"] for m in outbox()) == ["exec@a.example", "head@a.example"]
    assert "Send another reminder to 1 head" in _text(
        client, reminding["dashboard"] + "?la=Thurrock"
    )
    page = _text(client, reminding["dashboard"])  # all schools: none reminded yet
    assert "The last reminder went to 1 head " in page and "(schools in Thurrock)." in page
    assert "Send another reminder" not in page


def test_a_day_later_a_reminder_goes_without_asking(client, reminding, outbox):
    _press(client, reminding, "press-1")
    a_day_ago = datetime.now(UTC) - REMINDER_INTERVAL - timedelta(minutes=1)
    db.session.execute(sa.update(Reminder).values(created=a_day_ago))
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.action == "chased").values(created=a_day_ago)
    )
    db.session.commit()
    assert "Send another" not in _text(client, reminding["dashboard"])
    _press(client, reminding, "press-2")
    assert len(outbox()) == 4


def test_the_steps_refuse_a_second_reminder_with_the_time_it_went(app):
    campaign, lead = _association_with_a_campaign()
    db.session.commit()
    assert consultation_steps.chase(campaign, batch="one", by=lead) != []
    with pytest.raises(ReminderSentRecently, match=r"^A reminder went to 2 heads at .* today\."):
        consultation_steps.chase(campaign, batch="two", by=lead)
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1
    [row] = db.session.scalars(sa.select(Reminder))
    assert (row.by_id, row.heads, row.la, row.constituency) == (lead.id, 2, "", "")

    signoff_services.freeze(campaign, lead)
    db.session.commit()
    signoff_steps.chase(campaign, lead, batch="three")
    with pytest.raises(signoff_services.ChasedRecently, match="Send another"):
        signoff_steps.chase(campaign, lead, batch="four")
    assert len(signoff_steps.chase(campaign, lead, batch="four", confirm=True)) == 2


# --- 4. unique ids; 5. the decisions before the long list -----------------------------


def test_every_id_on_both_dashboards_is_unique(client, reminding):
    html = client.get(reminding["dashboard"]).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert {"la", "constituency"} <= set(ids)
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_the_amendments_to_decide_come_before_the_schools_with_no_answer(app, client):
    campaign, lead = _association_with_a_campaign()
    exec_head = db.session.scalar(sa.select(User).where(User.email == "exec@a.example"))
    consultation_services.propose_amendment(
        campaign, campaign.current_version, 2, exec_head, "We ask, loudly.", ""
    )
    db.session.commit()
    sign_in(client, lead)
    page = client.get(f"{BASE}/consultation").get_data(as_text=True)
    assert page.index("Accept and make a new version") < page.index("No answer yet (3)")
    assert page.index("Comments and proposed changes") < page.index("No answer yet (3)")

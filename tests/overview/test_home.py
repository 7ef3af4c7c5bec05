"""The lead's home page answers "what now?": each campaign with its state, its
deadline in plain English, its progress in numbers and the one next action."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from campaign.consultation import services as consultation
from campaign.consultation import steps as consultation_steps
from campaign.directory.models import Role
from campaign.drafting.services import create_campaign
from campaign.extensions import db
from campaign.formatting import day_and_time
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import Decision
from tests.factories import make_association, make_headship, make_school, make_user, sign_in

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)  # a Wednesday


def _home(client, user) -> str:
    sign_in(client, user)
    text = client.get("/a/county/").get_data(as_text=True)
    return re.sub(r"\s+", " ", text)


def _association(schools: int = 3):
    association = make_association("county", "County Heads")
    lead = make_user("lead@county.example", "Lena Lead", association, Role.LEAD)
    heads = []  # (head, their school)
    for n in range(schools):
        head = make_user(f"head{n}@county.example", f"Head {n}", association)
        school = make_school(association, 900100 + n, name=f"School {n}")
        make_headship(association, head, school)
        heads.append((head, school))
    return association, lead, heads


def test_a_draft_without_a_statement_asks_for_one_and_with_one_to_open(client, app):
    association, lead, _ = _association()
    campaign = create_campaign(association, "Fair funding")
    db.session.commit()
    page = _home(client, lead)
    assert "Fair funding" in page and "The statement is not written yet." in page
    assert f'href="/a/county/campaigns/{campaign.slug}/statement">Write the statement' in page

    create_campaign(association, "Class sizes", body="We ask for smaller classes.")
    db.session.commit()
    page = _home(client, lead)
    assert "Version 1 is ready to share with the heads." in page
    assert ">Open the consultation</a>" in page


def test_consultation_shows_answers_and_asks_for_a_reminder_then_for_decisions(client, app):
    association, lead, heads = _association()
    deadline = datetime.now(UTC) + timedelta(days=1)
    campaign = create_campaign(
        association, "Fair funding", body="We ask.", consultation_deadline=deadline
    )
    db.session.commit()
    consultation_steps.open_consultation(campaign)
    head, school = heads[0]
    consultation.record_stance(campaign, school, head, consultation.StanceKind.AGREE)
    db.session.commit()
    page = _home(client, lead)
    assert f"Consultation open: closes {day_and_time(deadline)}." in page
    assert "tomorrow at" in page
    assert '<progress value="1" max="3"' in page and "1 of 3 schools answered" in page
    assert "2 schools have not answered." in page and ">Send a reminder</a>" in page

    version = campaign.current_version
    consultation.propose_amendment(campaign, version, 1, heads[1][0], "We ask firmly.", "Why")
    db.session.commit()
    page = _home(client, lead)
    assert "1 amendment waits for your decision." in page
    assert ">Decide the amendments</a>" in page


def test_sign_off_counts_answers_and_asks_to_close_when_all_have_answered(client, app):
    association, lead, heads = _association(2)
    campaign = create_campaign(association, "Fair funding", body="We ask.")
    db.session.commit()
    consultation_steps.open_consultation(campaign)
    signoff_steps.freeze(campaign, lead)
    for head, school in heads:
        signoff_steps.sign(
            campaign, school, head, decision=Decision.SIGNED,
            name=head.name, role="Headteacher", shown_sha256=campaign.frozen_version.sha256,
        )  # fmt: skip
    page = _home(client, lead)
    assert "Sign-off open: no deadline set." in page
    assert "2 of 2 schools answered" in page
    assert "Every school has answered." in page and ">Close sign-off</a>" in page

    signoff_steps.close(campaign, lead)
    page = _home(client, lead)
    assert "Sign-off is closed: the signatures are final." in page
    assert ">Render the letters</a>" in page


def test_a_viewer_sees_where_campaigns_stand_but_no_action_and_a_head_sees_neither(client, app):
    association, _, heads = _association(1)
    viewer = make_user("viewer@county.example", "Vic Viewer", association, Role.VIEWER)
    campaign = create_campaign(association, "Fair funding", body="We ask.")
    create_campaign(association, "Still a draft", body="Hidden.")
    db.session.commit()
    consultation_steps.open_consultation(campaign)
    page = _home(client, viewer)
    assert "1 school has not answered." in page
    assert "Send a reminder" not in page and "Still a draft" not in page
    page = _home(client, heads[0][0])
    assert "Read the statement and answer" in page and "schools answered" not in page


def test_the_day_and_time_read_as_a_person_says_them():
    at = NOW.replace(hour=17)
    assert day_and_time(at, NOW) == "today at 5pm"
    assert day_and_time(at + timedelta(days=1), NOW) == "tomorrow at 5pm"
    assert day_and_time(at + timedelta(days=2), NOW) == "on Friday at 5pm"
    assert day_and_time(at + timedelta(days=9, minutes=30), NOW) == "on 11 December at 5:30pm"
    assert day_and_time(at - timedelta(days=1), NOW) == "yesterday at 5pm"
    assert day_and_time(at + timedelta(days=40), NOW) == "on 11 January 2027 at 5pm"

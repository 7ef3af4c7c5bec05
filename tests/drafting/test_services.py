"""Campaigns and statement versions: creating, saving, freezing, and the state machine."""

from __future__ import annotations

import hashlib
from itertools import product

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campaign.drafting import text
from campaign.drafting.models import (
    TRANSITIONS,
    Campaign,
    CampaignState,
    IllegalTransition,
    StatementVersion,
)
from campaign.drafting.services import (
    TextFrozen,
    create_campaign,
    dao_campaign,
    dao_version,
    dao_version_count,
    save_statement,
)
from campaign.extensions import db
from tests.factories import make_association, make_user


def stored_versions(campaign: Campaign) -> list[tuple[int, str, str]]:
    """(number, body, sha256) of every version, read back from the database."""
    db.session.commit()
    db.session.expire_all()
    return [
        (v.number, v.body, v.sha256)
        for v in db.session.scalars(
            select(StatementVersion)
            .where(StatementVersion.campaign_id == campaign.id)
            .order_by(StatementVersion.number)
        )
    ]


def digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def test_a_new_campaign_is_a_draft_with_version_one(app):
    author = make_user()
    campaign = create_campaign(
        make_association(), "  Fair funding  ", body="One.\r\n\r\nTwo.  \r\n", author=author
    )
    assert campaign.state is CampaignState.DRAFT
    assert campaign.title == "Fair funding"
    assert stored_versions(campaign) == [(1, "One.\n\nTwo.", digest("One.\n\nTwo."))]
    assert campaign.current_version.author == author


def test_a_campaign_without_text_has_no_version(app):
    campaign = create_campaign(make_association(), "Fair funding", body="  \n\n ")
    assert stored_versions(campaign) == []
    assert campaign.current_version is None


def test_slugs_are_unique_within_an_association_only(app):
    a, b = make_association(), make_association()
    first = create_campaign(a, "Fair funding!")
    db.session.flush()
    second = create_campaign(a, "Fair funding")
    db.session.flush()
    other = create_campaign(b, "Fair funding")
    db.session.commit()
    assert (first.slug, second.slug, other.slug) == (
        "fair-funding",
        "fair-funding-2",
        "fair-funding",
    )
    assert dao_campaign(a.id, "fair-funding-2") == second
    assert dao_campaign(b.id, "fair-funding-2") is None


def test_versions_are_numbered_one_two_three_with_the_hash_of_the_normalised_text(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    second = save_statement(campaign, "One.\n\nTwo.", None, note="Added two")
    third = save_statement(campaign, "One.\n\nTwo.\n\nThree.\r\n", None)
    assert (second.number, third.number) == (2, 3)
    assert second.note == "Added two"
    assert stored_versions(campaign) == [
        (1, "One.", digest("One.")),
        (2, "One.\n\nTwo.", digest("One.\n\nTwo.")),
        (3, "One.\n\nTwo.\n\nThree.", digest("One.\n\nTwo.\n\nThree.")),
    ]
    assert dao_version_count(campaign.id) == 3
    assert dao_version(campaign.id, 2).body == "One.\n\nTwo."
    assert dao_version(campaign.id, 4) is None


@pytest.mark.parametrize(
    "same_text",
    [
        "One.\n\nTwo.",
        "One.\r\n\r\nTwo.\r\n",
        "One.   \n\n\n\nTwo.\t",
        "\n\nOne.\n\nTwo.\n\n\n",
        "One.\r\rTwo.",
    ],
)
def test_unchanged_text_makes_no_version(app, same_text):
    campaign = create_campaign(make_association(), "Fair funding", body="One.\n\nTwo.")
    assert save_statement(campaign, same_text, make_user()) is None
    assert [number for number, _, _ in stored_versions(campaign)] == [1]


def test_going_back_to_an_earlier_text_is_a_new_version(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    save_statement(campaign, "Two.", None)
    back = save_statement(campaign, "One.", None)
    assert back.number == 3
    assert back.sha256 == campaign.versions[0].sha256


def test_unchanged_text_is_judged_against_the_latest_version_after_reloading(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    save_statement(campaign, "Two.", None)
    db.session.commit()
    db.session.expire_all()
    reloaded = db.session.get(Campaign, campaign.id)
    assert save_statement(reloaded, "Two.\r\n", None) is None
    assert save_statement(reloaded, "Three.", None).number == 3


def test_an_oversized_statement_is_refused_and_saves_nothing(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    with pytest.raises(text.StatementTooLong, match="limit is 100,000"):
        save_statement(campaign, "x" * 100_001, None)
    assert [number for number, _, _ in stored_versions(campaign)] == [1]
    assert save_statement(campaign, "x" * 100_000, None).number == 2


@pytest.mark.parametrize("state", [CampaignState.DRAFT, CampaignState.CONSULTATION])
def test_the_text_can_change_while_drafting_and_consulting(app, state):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    campaign.state = state
    assert save_statement(campaign, "Two.", None).number == 2


@pytest.mark.parametrize("state", [CampaignState.SIGNOFF, CampaignState.CLOSED, CampaignState.SENT])
def test_the_text_is_frozen_from_sign_off_on(app, state):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    campaign.state = state
    with pytest.raises(TextFrozen, match=f"frozen while the campaign is in {state.label.lower()}"):
        save_statement(campaign, "Two.", None)
    with pytest.raises(TextFrozen):
        save_statement(campaign, "One.", None)  # even an unchanged save is refused
    assert [number for number, _, _ in stored_versions(campaign)] == [1]


STATES = list(CampaignState)
LIFECYCLE = {
    ("draft", "consultation"),
    ("consultation", "draft"),
    ("consultation", "signoff"),
    ("signoff", "consultation"),
    ("signoff", "closed"),
    ("closed", "sent"),
}


@pytest.mark.parametrize(("start", "end"), list(product(STATES, STATES)), ids=lambda s: s.value)
def test_every_transition_is_allowed_or_refused_as_designed(app, start, end):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    campaign.state = start
    db.session.commit()
    if (start.value, end.value) in LIFECYCLE:
        campaign.move_to(end)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Campaign, campaign.id).state is end
    else:
        with pytest.raises(
            IllegalTransition,
            match=f"in {start.label.lower()} cannot move to {end.label.lower()}",
        ):
            campaign.move_to(end)
        assert campaign.state is start


def test_the_transition_map_is_the_designed_lifecycle():
    allowed = {(a.value, b.value) for a, ends in TRANSITIONS.items() for b in ends}
    assert allowed == LIFECYCLE
    assert set(TRANSITIONS) == set(CampaignState)


def test_the_database_refuses_an_unknown_state(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.text("UPDATE campaign SET state = 'published' WHERE id = :id"), {"id": campaign.id}
        )
    db.session.rollback()


def test_the_database_refuses_two_versions_with_one_number(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    db.session.commit()
    db.session.add(
        StatementVersion(campaign_id=campaign.id, number=1, body="Two.", sha256=digest("Two."))
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

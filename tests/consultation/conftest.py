"""A small association with a campaign under consultation, for page tests."""

from __future__ import annotations

import pytest

from campaign.consultation import evidence, services
from campaign.consultation.models import QuestionKind
from campaign.directory.models import Role
from campaign.drafting.services import create_campaign
from campaign.extensions import db
from tests.factories import (
    make_association,
    make_constituency,
    make_headship,
    make_school,
    make_user,
)

STATEMENT = "# Fair funding\n\nFirst paragraph.\n\nSecond paragraph about SEND.\n\nThird paragraph."


@pytest.fixture
def consultation(app):
    """Association A: a lead, a head of two schools, a head of one, a school with no
    answer; a campaign in consultation with a money and a number question.
    Association B: its own lead."""
    a = make_association(slug="assoc-a", name="Association A")
    b = make_association(slug="assoc-b", name="Association B")
    basildon = make_constituency("E14001077", "Basildon and Billericay")
    thurrock = make_constituency("E14001535", "Thurrock")
    s1 = make_school(
        a,
        urn=900001,
        name="Saxon High",
        local_authority="Essex",
        constituency_id=basildon.id,
        constituency_code="E14001077",
    )
    s2 = make_school(
        a,
        urn=900002,
        name="Abbey Academy",
        local_authority="Essex",
        constituency_id=basildon.id,
        constituency_code="E14001077",
    )
    s3 = make_school(
        a,
        urn=900003,
        name="Thurrock School",
        local_authority="Thurrock",
        constituency_id=thurrock.id,
        constituency_code="E14001535",
    )
    lead = make_user("lead@a.example", "Lena Lead", a, Role.LEAD)
    exec_head = make_user("exec@a.example", "Eve Exec", a, Role.HEAD)
    head = make_user("head@a.example", "Hal Head", a, Role.HEAD)
    make_headship(a, exec_head, s1)
    make_headship(a, exec_head, s2)
    make_headship(a, head, s3)
    lead_b = make_user("lead@b.example", "Bea B", b, Role.LEAD)
    campaign = create_campaign(
        a, "Fair funding", summary="Our statement.", body=STATEMENT, author=lead
    )
    db.session.flush()
    money = evidence.add_question(campaign, QuestionKind.MONEY, "Projected deficit", required=True)
    posts = evidence.add_question(campaign, QuestionKind.NUMBER, "Posts cut")
    services.open_consultation(campaign)
    db.session.commit()
    return {
        "a": a, "b": b, "campaign": campaign, "lead": lead, "exec": exec_head, "head": head,
        "lead_b": lead_b, "schools": (s1, s2, s3), "money": money, "posts": posts,
    }  # fmt: skip


BASE = "/a/assoc-a/campaigns/fair-funding"

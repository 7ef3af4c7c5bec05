"""A campaign in sign-off, for the sign-off tests."""

from __future__ import annotations

import pytest

from campaign.consultation import services as consultation
from campaign.directory.models import Role
from campaign.drafting.services import create_campaign
from campaign.extensions import db
from campaign.signoff import services
from tests.factories import (
    make_association,
    make_constituency,
    make_headship,
    make_school,
    make_user,
)

BASE = "/a/assoc-a/campaigns/fair-funding"


@pytest.fixture
def signoff(app):
    """Association A with three schools (Saxon and Abbey led by one executive head,
    Thurrock by its own head and a co-head), in sign-off; association B with a lead."""
    a = make_association(slug="assoc-a", name="Association A")
    b = make_association(slug="assoc-b", name="Association B")
    basildon = make_constituency("E14001077", "Basildon and Billericay")
    thurrock = make_constituency("E14001535", "Thurrock")
    schools = [
        make_school(a, urn=900001, name="Saxon High", local_authority="Essex", pupils=1000,
                    constituency_id=basildon.id, constituency_code="E14001077"),
        make_school(a, urn=900002, name="Abbey Academy", local_authority="Essex", pupils=800,
                    constituency_id=basildon.id, constituency_code="E14001077"),
        make_school(a, urn=900003, name="Thurrock School", local_authority="Thurrock", pupils=600,
                    constituency_id=thurrock.id, constituency_code="E14001535"),
    ]  # fmt: skip
    lead = make_user("lead@a.example", "Lena Lead", a, Role.LEAD)
    exec_head = make_user("exec@a.example", "Eve Exec", a, Role.HEAD)
    head = make_user("head@a.example", "Hal Head", a, Role.HEAD)
    co_head = make_user("co@a.example", "Cora Co", a, Role.HEAD)
    make_headship(a, exec_head, schools[0], "Executive Headteacher")
    make_headship(a, exec_head, schools[1], "Executive Headteacher")
    make_headship(a, head, schools[2])
    make_headship(a, co_head, schools[2], "Co-headteacher")
    lead_b = make_user("lead@b.example", "Bea B", b, Role.LEAD)
    campaign = create_campaign(a, "Fair funding", body="# Fair funding\n\nWe ask.", author=lead)
    db.session.flush()
    consultation.open_consultation(campaign)
    services.freeze(campaign, lead)
    db.session.commit()
    return {
        "a": a, "campaign": campaign, "lead": lead, "exec": exec_head, "head": head,
        "co_head": co_head, "lead_b": lead_b, "schools": schools,
    }  # fmt: skip


def sign_form(campaign, decision="signed", name="Eve Exec", role="Executive Headteacher"):
    return {
        "decision": decision,
        "name": name,
        "role": role,
        "version_sha256": campaign.frozen_version.sha256,
    }

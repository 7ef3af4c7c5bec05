"""A draft is the lead's alone: to heads and viewers every page of it is 404, and
the campaign list leaves it out, until consultation opens."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from campaign.consultation import services as consultation_services
from campaign.directory.models import Role, User
from campaign.drafting.models import Campaign, CampaignState
from campaign.extensions import db
from tests.factories import BASE, Scene, make_campaign, make_user, sign_in

DRAFT = "/a/assoc-a/campaigns/teacher-pay"
PAGES = ["/", "/statement", "/versions", "/compare?a=1&b=1", "/v/1", "/v/1/p/1", "/respond",
         "/respond/900003", "/questions", "/open", "/consultation", "/consultation/summary.csv",
         "/sign", "/sign/900003", "/signoff", "/letters/", "/sending/"]  # fmt: skip


@dataclass
class Drafting(Scene):
    """The consultation's scene, with a second campaign in draft and a viewer."""

    draft: Campaign | None = None
    viewer: User | None = None


@pytest.fixture
def draft(consultation):
    """Beside the campaign in consultation, a second one still being drafted."""
    campaign = make_campaign(
        consultation.a,
        "Teacher pay",
        body="# Teacher pay\n\nA first try at the words.",
        author=consultation.lead,
    )
    viewer = make_user("viewer@a.example", "Vic Viewer", consultation.a, Role.VIEWER)
    db.session.commit()
    scene = {f.name: getattr(consultation, f.name) for f in fields(Scene)}
    return Drafting(**scene, draft=campaign, viewer=viewer)


@pytest.mark.parametrize("who", ["head", "exec", "viewer"])
@pytest.mark.parametrize("path", PAGES)
def test_a_draft_is_404_to_anyone_but_the_lead(client, draft, who, path):
    sign_in(client, getattr(draft, who))
    assert client.get(f"{DRAFT}{path}").status_code == 404


def test_a_head_cannot_post_to_a_draft(client, draft):
    sign_in(client, draft.head)
    assert client.post(f"{DRAFT}/v/1/p/1", data={"comment-body": "Early"}).status_code == 404
    assert client.post(f"{DRAFT}/respond/900003", data={"kind": "agree"}).status_code == 404


def test_the_campaign_list_shows_a_draft_to_the_lead_only(client, draft):
    sign_in(client, draft.head)
    page = client.get("/a/assoc-a/campaigns/").get_data(as_text=True)
    assert "Fair funding" in page and "Teacher pay" not in page
    sign_in(client, draft.lead)
    page = client.get("/a/assoc-a/campaigns/").get_data(as_text=True)
    assert "Fair funding" in page and "Teacher pay" in page


@pytest.mark.parametrize("path", ["/", "/versions", "/v/1", "/compare?a=1&b=1", "/statement"])
def test_the_lead_reads_and_edits_the_draft(client, draft, path):
    sign_in(client, draft.lead)
    assert client.get(f"{DRAFT}{path}").status_code == 200


def test_once_consultation_opens_heads_read_it(client, draft):
    consultation_services.open_consultation(draft.draft)
    db.session.commit()
    sign_in(client, draft.head)
    assert client.get(f"{DRAFT}/respond").status_code == 200
    assert b"A first try at the words." in client.get(f"{DRAFT}/v/1").data
    assert "Teacher pay" in client.get("/a/assoc-a/campaigns/").get_data(as_text=True)


def test_back_to_draft_hides_it_again(client, consultation):
    sign_in(client, consultation.head)
    assert client.get(f"{BASE}/respond").status_code == 200
    consultation.campaign.move_to(CampaignState.DRAFT)  # a new drafting round
    db.session.commit()
    assert client.get(f"{BASE}/respond").status_code == 404
    assert client.get(f"{BASE}/v/1").status_code == 404

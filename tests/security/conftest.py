"""The fuzz tests' association (tests.security.fuzzing.World), for any test here."""

import pytest

from campaign.auth.services import issue_sign_in_link
from campaign.consultation import services as consultation
from campaign.consultation.evidence import dao_questions
from campaign.consultation.models import QuestionKind
from campaign.delivery.models import Channel, Message, MessageState
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.letters.models import Audience
from tests.factories import Question, make_campaign, sign_in
from tests.security.fuzzing import STATEMENT, World


@pytest.fixture
def world(app, association_world) -> World:
    """The association every fuzz example starts from (see World): the association
    world, with a campaign drafting, one consulting (a question of every kind and an
    amendment) and one signing (Saxon High signed)."""
    w = association_world
    a, lead, head, other, schools = w.a, w.lead, w.exec, w.head, w.schools
    make_campaign(a, "Drafting", author=lead, body=STATEMENT)
    consulting = make_campaign(
        a, "Consulting", author=lead, body=STATEMENT, state=CampaignState.CONSULTATION,
        questions=[Question(kind, f"About {kind.value}") for kind in QuestionKind],
    )  # fmt: skip
    amendment = consultation.propose_amendment(
        consulting, consulting.current_version, 2, head, "A better second paragraph."
    )
    signing = make_campaign(
        a, "Signing", author=lead, body=STATEMENT, state=CampaignState.SIGNOFF,
        signed=[schools[0]],
    )  # fmt: skip
    questions = {q.kind: q for q in dao_questions(consulting.id)}
    token = issue_sign_in_link(other).rsplit("/", 1)[1]
    # Two letters to MPs sent by email, for the delivery events the webhook reports
    # (not to parents: once those are sent, no parents' list can be uploaded).
    messages = [
        Message(campaign_id=signing.id, audience=Audience.MPS, channel=Channel.EMAIL,
                recipient=f"constituency:{code}", idempotency_key=f"fuzz:{code}",
                to_address=f"mp{n}@parliament.example", state=MessageState.SENT,
                provider_id=f"provider-{n}")
        for n, code in enumerate(["E14001077", "E14001535"], start=1)
    ]  # fmt: skip
    db.session.add_all(messages)
    db.session.commit()

    clients = {"lead": app.test_client(), "head": app.test_client()}
    sign_in(clients["lead"], lead)
    sign_in(clients["head"], head)
    ids = {
        "association": a.id, "amendment": amendment.id, "token": token,
        "sha256": signing.frozen_version.sha256, "lead": lead.id, "head": head.id,
        "school": schools[0].id, "signing": signing.id, "consulting": consulting.id,
        "messages": [m.id for m in messages],
        **{f"q_{kind.value}": q.id for kind, q in questions.items()},
    }  # fmt: skip
    db.session.commit()
    return World(app, clients, ids)

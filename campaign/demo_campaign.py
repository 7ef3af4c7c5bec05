"""The demo campaign, "Fair funding for our schools", and (on request) a
deterministic consultation round on it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from importlib import resources

from sqlalchemy import select

from campaign.consultation import evidence, services
from campaign.consultation.models import QuestionKind, Stance, StanceKind
from campaign.directory.models import Association, Headship, School, User
from campaign.drafting import text
from campaign.drafting.models import Campaign, CampaignState
from campaign.drafting.services import create_campaign, dao_campaign
from campaign.extensions import db
from campaign.formatting import LONDON
from campaign.signoff import services as signoff
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import Decision, Signature

TITLE = "Fair funding for our schools"
SLUG = "fair-funding-for-our-schools"
SUMMARY = (
    "A joint statement to parents and MPs on the 2026/27 funding settlement, "
    "with each school's own figures for its deficit and the teaching posts lost."
)
REASONS = {
    StanceKind.DISAGREE: [
        "We support the aims but the SEND paragraph should name the high-needs deficit.",
        "Our governors would prefer a less political tone towards ministers.",
    ],
    StanceKind.BLOCK: ["As a selective school we cannot sign a call framed around class sizes."],
}


def ensure_campaign(association: Association, lead: User) -> Campaign:
    """The demo campaign with its statement and two evidence questions. Idempotent."""
    campaign = dao_campaign(association.id, SLUG)
    if campaign is not None:
        return campaign
    # Deadlines at 5pm UK time, two and four weeks out.
    today = datetime.now(LONDON).replace(hour=17, minute=0, second=0, microsecond=0)
    body = (resources.files("campaign") / "data" / "fair-funding-statement.md").read_text()
    campaign = create_campaign(
        association,
        TITLE,
        summary=SUMMARY,
        consultation_deadline=(today + timedelta(days=14)).astimezone(UTC),
        signoff_deadline=(today + timedelta(days=28)).astimezone(UTC),
        body=body,
        author=lead,
    )
    db.session.flush()
    evidence.add_question(
        campaign,
        QuestionKind.MONEY,
        "Projected deficit for 2026/27, in pounds",
        "The in-year deficit in the budget your governors are setting. Enter 0 if none.",
        required=True,
    )
    evidence.add_question(
        campaign,
        QuestionKind.NUMBER,
        "Number of teaching posts cut since 2023",
        "Full-time equivalent posts not replaced or removed.",
    )
    return campaign


def run_consultation(campaign: Campaign, lead: User) -> bool:
    """Stances, comments, one accepted amendment and evidence from most schools,
    the same every time. Does nothing if the campaign already has stances."""
    if db.session.scalar(select(Stance.id).where(Stance.campaign_id == campaign.id)):
        return False
    if campaign.state is CampaignState.DRAFT:
        services.open_consultation(campaign)
    rng = random.Random(2026)
    rows = db.session.execute(
        select(School, User)
        .join(Headship, Headship.school_id == School.id)
        .join(User, User.id == Headship.user_id)
        .where(Headship.association_id == campaign.association_id)
        .order_by(School.urn)
    ).all()
    version = campaign.current_version
    questions = evidence.dao_questions(campaign.id)
    for school, head in rows:
        if rng.random() < 0.12:
            continue  # no answer yet
        roll = rng.random()
        kind = (
            StanceKind.AGREE if roll < 0.8
            else StanceKind.ABSTAIN if roll < 0.88
            else StanceKind.DISAGREE if roll < 0.96
            else StanceKind.BLOCK
        )  # fmt: skip
        reason = rng.choice(REASONS[kind]) if kind in REASONS else ""
        services.record_stance(campaign, school, head, kind, reason)
        deficit = rng.randrange(0, 1_500_000, 1000)
        posts = rng.randrange(0, 9)
        evidence.save_answers(
            campaign, school, head, {questions[0].id: str(deficit), questions[1].id: str(posts)}
        )
    # Feedback on the SEND paragraph, and an amendment the lead accepts.
    commenters = [head for _, head in rows[:3]]
    blocks = text.paragraphs(version.body)
    paragraph = next(i for i, b in enumerate(blocks, 1) if "special educational needs" in b)
    for head, body in zip(
        commenters,
        [
            "Please say how many of our pupils have an EHC plan: the number is striking.",
            "Agree strongly. The £6,000 notional SEN budget point is the one MPs remember.",
            "Could we mention the waiting times for assessments in months?",
        ],
        strict=True,
    ):
        services.add_comment(campaign, version, paragraph, head, body)
    original = blocks[paragraph - 1]
    amendment = services.propose_amendment(
        campaign,
        version,
        paragraph,
        commenters[0],
        original.replace(
            "Families wait months for assessments,",
            "Families wait many months, often beyond the 20-week legal limit, for assessments,",
        ),
        "The legal limit makes the point better than we can.",
    )
    services.decide_amendment(
        amendment, campaign, accept=True, note="Thank you: a stronger sentence.", by=lead
    )
    return True


def run_signoff(campaign: Campaign, lead: User) -> bool:
    """Freeze the text and have most schools sign, a few decline and a few never
    answer, the same every time. Does nothing once the campaign has signatures.
    A simulation: it moves the campaign with the services, so no head is emailed."""
    if db.session.scalar(select(Signature.id).where(Signature.campaign_id == campaign.id)):
        return False
    if campaign.state is CampaignState.DRAFT:
        services.open_consultation(campaign)
    if campaign.state is CampaignState.CONSULTATION:
        signoff.freeze(campaign, lead)
        db.session.commit()
    rng = random.Random(2027)
    rows = db.session.execute(
        select(School, User, Headship)
        .join(Headship, Headship.school_id == School.id)
        .join(User, User.id == Headship.user_id)
        .where(Headship.association_id == campaign.association_id)
        .order_by(School.urn)
    ).all()
    for school, head, headship in rows:
        roll = rng.random()
        if roll >= 0.92 or not head.name:
            continue  # never answers
        signoff_steps.sign(
            campaign,
            school,
            head,
            decision=Decision.SIGNED if roll < 0.85 else Decision.DECLINED,
            name=head.name,
            role=headship.job_title or "Headteacher",
            shown_sha256=campaign.frozen_version.sha256,
        )
    return True

"""Factories that build data the way the app does, and helpers to act as a user."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from pathlib import Path

from sqlalchemy import insert, select

from campaign.auth.services import issue_sign_in_link
from campaign.consultation import evidence
from campaign.consultation import services as consultation
from campaign.consultation.models import (
    EvidenceAnswer,
    EvidenceQuestion,
    QuestionKind,
    Stance,
    StanceKind,
)
from campaign.delivery.models import Channel, Message, MessageState
from campaign.delivery.outbox import idempotency_key
from campaign.directory.models import (
    Association,
    Constituency,
    Headship,
    Membership,
    Mp,
    Role,
    School,
    User,
)
from campaign.drafting.models import Campaign, CampaignState
from campaign.drafting.services import create_campaign
from campaign.extensions import db
from campaign.letters.models import Audience, Letter, LockedLetters, RecipientKind
from campaign.signoff import services as signoff
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import AuditEvent, Decision, Signature

_ids = itertools.count(1)


def make_association(slug: str | None = None, name: str | None = None) -> Association:
    n = next(_ids)
    association = Association(slug=slug or f"assoc-{n}", name=name or f"Association {n}")
    db.session.add(association)
    db.session.flush()
    return association


def make_user(email: str | None = None, name: str = "", association=None, role=Role.HEAD) -> User:
    user = User(email=email or f"user{next(_ids)}@example.org", name=name)
    db.session.add(user)
    if association is not None:
        db.session.add(Membership(user=user, association=association, role=role))
    db.session.flush()
    return user


def make_constituency(code: str = "E14001077", name: str = "Basildon and Billericay", mp=True):
    seat = Constituency(ons_code=code, name=name, region="East of England", country="England")
    if mp:
        seat.mp = Mp(first_name="Richard", last_name="Holden", party="Conservative")
    db.session.add(seat)
    db.session.flush()
    return seat


def make_school(association, urn: int | None = None, **fields) -> School:
    """A member school of the association: its own copy of the school's register facts."""
    fields.setdefault("name", "Test School")
    # A postal address the window envelope accepts (3 to 7 lines, a postcode last).
    if not any(fields.get(k) for k in ("street", "town", "postcode")):
        fields.update(street="1 School Lane", town="Basildon", postcode="SS14 1AA")
    school = School(association_id=association.id, urn=urn or 800000 + next(_ids), **fields)
    db.session.add(school)
    db.session.flush()
    return school


def make_headship(association, user, school, job_title="Headteacher") -> Headship:
    headship = Headship(
        association_id=association.id, user=user, school=school, job_title=job_title
    )
    db.session.add(headship)
    db.session.flush()
    return headship


# --- the association world ----------------------------------------------------------

# The world's campaign ("Fair funding", in association A) is at this address.
BASE = "/a/assoc-a/campaigns/fair-funding"


@dataclass(kw_only=True)
class World:
    """Association A: a lead; Saxon High (1,000 pupils) and Abbey Academy (800), in
    Basildon and Billericay, led by one executive head; Thurrock School (600), in
    Thurrock, with its own head (and a co-head, once add_co_head has been called).
    Association B: its own lead."""

    a: Association
    b: Association
    lead: User
    exec: User
    head: User
    lead_b: User
    schools: list[School]
    co_head: User | None = None


def make_world() -> World:
    """The world (see World); the caller commits."""
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
    make_headship(a, exec_head, schools[0], "Executive Headteacher")
    make_headship(a, exec_head, schools[1], "Executive Headteacher")
    make_headship(a, head, schools[2])
    lead_b = make_user("lead@b.example", "Bea B", b, Role.LEAD)
    return World(a=a, b=b, lead=lead, exec=exec_head, head=head, lead_b=lead_b,
                 schools=schools)  # fmt: skip


def add_co_head(world: World) -> User:
    """Thurrock School's co-head, beside its head; the caller commits."""
    world.co_head = make_user("co@a.example", "Cora Co", world.a, Role.HEAD)
    make_headship(world.a, world.co_head, world.schools[2], "Co-headteacher")
    return world.co_head


@dataclass(kw_only=True)
class Scene(World):
    """The world and one of its campaigns, with the questions the campaign asks."""

    campaign: Campaign
    questions: list[EvidenceQuestion] = field(default_factory=list)

    @property
    def money(self) -> EvidenceQuestion:
        """The first money question."""
        return next(q for q in self.questions if q.kind is QuestionKind.MONEY)

    @property
    def posts(self) -> EvidenceQuestion:
        """The first number question."""
        return next(q for q in self.questions if q.kind is QuestionKind.NUMBER)


def scene(world: World, campaign: Campaign) -> Scene:
    """The world with one of its campaigns."""
    people = {f.name: getattr(world, f.name) for f in fields(World)}
    return Scene(**people, campaign=campaign, questions=evidence.dao_questions(campaign.id))


@dataclass
class Question:
    """A question for make_campaign, and the schools' answers to it."""

    kind: QuestionKind
    prompt: str
    required: bool = False
    answers: Mapping[School, int | Decimal] = field(default_factory=dict)


_LIFECYCLE = [CampaignState.DRAFT, CampaignState.CONSULTATION, CampaignState.SIGNOFF,
              CampaignState.CLOSED]  # fmt: skip


def make_campaign(
    association: Association,
    title: str = "Fair funding",
    *,
    author: User,
    state: CampaignState = CampaignState.DRAFT,
    body: str = "# Fair funding\n\nWe ask.",
    summary: str = "",
    questions: Sequence[Question] = (),
    signed: Sequence[School] = (),
    declined: Sequence[School] = (),
    role: str = "Headteacher",
) -> Campaign:
    """A campaign taken through the real lifecycle to `state`: drafted by `author`
    with `questions`; consultation opened; frozen for sign-off by `author`; the
    questions answered; each school in `signed` or `declined` (in the order the
    schools were made) answered by its first head, under their own name and `role`;
    closed by `author`. Committed.

    Quietly: with the services the steps are made of, as the demo does, so no head
    is emailed and a test's outbox holds only its own mail. Tests of a step take it
    through its page or command, or call it."""
    if state not in _LIFECYCLE:
        raise ValueError(f"make_campaign stops at {_LIFECYCLE[-1]}, not {state}")
    reached = _LIFECYCLE[: _LIFECYCLE.index(state) + 1]
    if (signed or declined) and CampaignState.SIGNOFF not in reached:
        raise ValueError("schools sign in sign-off: ask for state SIGNOFF or later")
    campaign = create_campaign(association, title, summary=summary, body=body, author=author)
    db.session.flush()
    asked = [
        (evidence.add_question(campaign, q.kind, q.prompt, required=q.required), q.answers)
        for q in questions
    ]
    if CampaignState.CONSULTATION in reached:
        consultation.open_consultation(campaign)
    if CampaignState.SIGNOFF in reached:
        signoff.freeze(campaign, author)
    db.session.commit()
    if any(answers for _, answers in asked):
        for question, answers in asked:
            for school, value in answers.items():
                db.session.add(
                    EvidenceAnswer(question_id=question.id, school_id=school.id, number_value=value)
                )
        db.session.commit()
    decisions = {s: Decision.SIGNED for s in signed} | {s: Decision.DECLINED for s in declined}
    for school in sorted(decisions, key=lambda s: s.id):
        user = first_head(school)
        signoff_steps.sign(campaign, school, user, decision=decisions[school], name=user.name,
                     role=role, shown_sha256=campaign.frozen_version.sha256)  # fmt: skip
    if CampaignState.CLOSED in reached:
        signoff.close(campaign, author)
        db.session.commit()
    return campaign


def make_signed_campaign(world: World, state: CampaignState = CampaignState.SIGNOFF) -> Campaign:
    """A's "Fair funding" with its projected deficit answered by each school, then
    signed by Saxon High and Thurrock School and declined by Abbey Academy."""
    saxon, abbey, thurrock = world.schools
    deficit = Question(QuestionKind.MONEY, "Projected deficit",
                       answers={saxon: 250000, abbey: 999999, thurrock: 100000})  # fmt: skip
    return make_campaign(world.a, author=world.lead, state=state, questions=[deficit],
                         signed=[saxon, thurrock], declined=[abbey])  # fmt: skip


def first_head(school: School) -> User:
    """The school's first head on the roster."""
    return db.session.scalars(
        db.select(User)
        .join(Headship, Headship.user_id == User.id)
        .where(Headship.school_id == school.id)
        .order_by(Headship.id)
    ).first()


# --- a national association, in bulk ---------------------------------------------------

NATION_LAS = [f"Authority {n}" for n in range(10)]  # bounded groups, like the real ~150


def make_schools_with_heads(world: World, count: int, first_urn: int = 100000) -> list[int]:
    """`count` more member schools of A, each with its own head (a member), spread
    over ten local authorities and the world's two constituencies, inserted in bulk
    (5,000 take seconds); 1 in 10 has a constituency code no constituency has, and
    1 in 10 (others) no head. Returns their ids. The caller commits."""
    seats = [world.schools[0].constituency_id, world.schools[2].constituency_id]
    codes = [world.schools[0].constituency_code, world.schools[2].constituency_code]
    urns = range(first_urn, first_urn + count)
    db.session.execute(insert(School), [
        {"association_id": world.a.id, "urn": urn, "name": f"School {urn}",
         "local_authority": NATION_LAS[i % 10], "pupils": 500,
         "constituency_id": None if i % 10 == 7 else seats[i % 2],
         "constituency_code": "E14009999" if i % 10 == 7 else codes[i % 2],
         "street": "1 School Lane", "town": "Basildon",
         "postcode": "SS14 1AA"}
        for i, urn in enumerate(urns)
    ])  # fmt: skip
    db.session.execute(insert(User), [{"email": f"head{urn}@nation.example",
                                       "name": f"Head {urn}"} for urn in urns])  # fmt: skip
    users = dict(db.session.execute(
        select(User.email, User.id).where(User.email.like("head%@nation.example"))
    ).all())  # fmt: skip
    schools = dict(db.session.execute(
        select(School.urn, School.id).where(School.association_id == world.a.id,
                                            School.urn.in_(list(urns)))
    ).all())  # fmt: skip
    head = lambda urn: users[f"head{urn}@nation.example"]  # noqa: E731
    db.session.execute(insert(Membership), [
        {"user_id": head(urn), "association_id": world.a.id, "role": Role.HEAD} for urn in urns
    ])  # fmt: skip
    db.session.execute(insert(Headship), [
        {"association_id": world.a.id, "user_id": head(urn), "school_id": schools[urn],
         "job_title": "Headteacher"} for i, urn in enumerate(urns) if i % 10 != 9
    ])  # fmt: skip
    return [schools[urn] for urn in urns]


def make_national_campaign(world: World, count: int) -> Campaign:
    """A's "Fair funding", sent, with `count` more schools (make_schools_with_heads):
    of each 20, 15 gave a stance in consultation; of each 5, 3 signed, 1 declined and
    1 did not answer, each answer in the audit log; a letter to parents per signing
    school, emailed, 1 in 3 of them not delivered. In bulk; committed."""
    ids = make_schools_with_heads(world, count)
    campaign = make_campaign(world.a, author=world.lead, state=CampaignState.SIGNOFF)
    heads = dict(db.session.execute(
        select(Headship.school_id, Headship.user_id).where(Headship.school_id.in_(ids))
    ).all())  # fmt: skip
    ids = [sid for sid in ids if sid in heads]  # a school without a head answers nothing
    kinds = list(StanceKind)
    db.session.execute(insert(Stance), [
        {"campaign_id": campaign.id, "school_id": sid, "user_id": heads[sid],
         "version_id": campaign.current_version.id, "kind": kinds[i % len(kinds)],
         "reason": "Our reason." if kinds[i % len(kinds)].needs_reason else ""}
        for i, sid in enumerate(ids) if i % 20 < 15
    ])  # fmt: skip
    decided = {sid: Decision.SIGNED if i % 5 < 3 else Decision.DECLINED
               for i, sid in enumerate(ids) if i % 5 < 4}  # fmt: skip
    sha = campaign.frozen_version.sha256
    db.session.execute(insert(Signature), [
        {"campaign_id": campaign.id, "school_id": sid, "user_id": heads[sid], "decision": d,
         "name": "A Head", "role": "Headteacher", "version_sha256": sha}
        for sid, d in decided.items()
    ])  # fmt: skip
    db.session.execute(insert(AuditEvent), [
        {"campaign_id": campaign.id, "actor_id": heads[sid], "action": d.value,
         "detail": {"school_id": sid}} for sid, d in decided.items()
    ])  # fmt: skip
    signoff.close(campaign, world.lead)
    campaign.move_to(CampaignState.SENT)
    _letters_and_messages(campaign, [s for s, d in decided.items() if d is Decision.SIGNED])
    db.session.commit()
    return campaign


def _letters_and_messages(campaign: Campaign, school_ids: list[int]) -> None:
    """A tiny letter to parents per school (1 in 10 failing its check, 1 in 10 not
    checked) and its email (in the outbox, sent)."""
    urns = dict(
        db.session.execute(select(School.id, School.urn).where(School.id.in_(school_ids))).all()
    )
    now = datetime.now(UTC)
    rows = []
    checks = [[]] * 8 + [["The address has no valid UK postcode on its last line"], None]
    for i, sid in enumerate(school_ids):
        row = {"campaign_id": campaign.id, "audience": Audience.PARENTS,
               "recipient": RecipientKind.SCHOOL.key(urns[sid]),
               "recipient_name": f"School {urns[sid]}", "merge": {"school": {"urn": urns[sid]}},
               "merge_sha256": "0" * 64, "pages": 1, "sha256": "0" * 64, "rendered": now,
               "problems": checks[i % 10]}  # fmt: skip
        if "pdf" in Letter.__table__.c:  # while letters keep their PDF in the row
            row["pdf"] = b"%PDF-1.4 tiny"
        rows.append(row)
    db.session.execute(insert(Letter), rows)
    db.session.add(LockedLetters(campaign_id=campaign.id, audience=Audience.PARENTS, locked=now))
    letters = db.session.execute(
        select(Letter.id, Letter.recipient, Letter.recipient_name).where(
            Letter.campaign_id == campaign.id
        )
    ).all()
    states = [MessageState.DELIVERED, MessageState.BOUNCED, MessageState.FAILED]
    db.session.execute(insert(Message), [
        {"campaign_id": campaign.id, "audience": Audience.PARENTS, "channel": Channel.EMAIL,
         "recipient": recipient, "letter_id": letter_id, "to_name": name,
         "to_address": f"office{i}@school.example", "state": states[i % 3], "sent": now,
         "idempotency_key": idempotency_key(campaign.id, Audience.PARENTS, recipient,
                                            Channel.EMAIL)}
        for i, (letter_id, recipient, name) in enumerate(letters)
    ])  # fmt: skip


# --- acting as a user ----------------------------------------------------------------


def sign_form(campaign, decision="signed", name="Eve Exec", role="Executive Headteacher"):
    """The sign page's form, as a head posts it."""
    return {
        "decision": decision,
        "name": name,
        "role": role,
        "version_sha256": campaign.frozen_version.sha256,
    }


def sign_in(client, user: User) -> None:
    """Sign in through the real link: issue, then POST the confirmation."""
    link = issue_sign_in_link(user)
    db.session.commit()
    response = client.post(link.replace("http://localhost", ""))
    assert response.status_code == 302, response.data


def read_outbox(app) -> list:
    directory = Path(app.config["OUTBOX_DIR"])
    return [
        BytesParser(policy=policy.default).parsebytes(p.read_bytes())
        for p in sorted(directory.glob("*.eml"))
    ]


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", message.get_body(preferencelist=("plain",)).get_content())

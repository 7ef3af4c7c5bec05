"""Running a consultation: stances, the tally, chasing, deadlines, comments and amendments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaign import paging
from campaign.consultation import evidence, services
from campaign.consultation.models import (
    Amendment,
    AmendmentState,
    Comment,
    EvidenceAnswer,
    Stance,
    StanceKind,
)
from campaign.consultation.services import ConsultationError
from campaign.directory.models import Role
from campaign.drafting import text
from campaign.drafting.models import CampaignState, StatementVersion
from campaign.drafting.services import create_campaign, save_statement
from campaign.extensions import db
from campaign.formatting import when
from tests.factories import (
    make_association,
    make_headship,
    make_school,
    make_user,
)

# The fixture's statement: paragraph 3 is "Second paragraph about SEND."
PARAGRAPHS = [
    "# Fair funding",
    "First paragraph.",
    "Second paragraph about SEND.",
    "Third paragraph.",
]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def versions(campaign) -> list[int]:
    return list(
        db.session.scalars(
            select(StatementVersion.number)
            .where(StatementVersion.campaign_id == campaign.id)
            .order_by(StatementVersion.number)
        )
    )


# --- opening and closing ----------------------------------------------------


def test_opening_returns_only_the_heads_to_invite(app, consultation):
    c = consultation
    other = make_association()
    make_headship(other, make_user(association=other), make_school(other))
    make_user("viewer@a.example", "Val Viewer", c.a, Role.VIEWER)
    campaign = create_campaign(c.a, "Second campaign", body="Text.")
    head_ids = services.open_consultation(campaign)
    assert campaign.state is CampaignState.CONSULTATION
    assert sorted(head_ids) == sorted([c.exec.id, c.head.id])  # once each, no lead


def test_a_consultation_needs_a_statement_and_a_future_deadline(app, consultation):
    a = consultation.a
    empty = create_campaign(a, "Nothing yet")
    with pytest.raises(ConsultationError, match="Write the statement"):
        services.open_consultation(empty)
    late = create_campaign(
        a, "Too late", body="Text.", consultation_deadline=datetime.now(UTC) - timedelta(minutes=1)
    )
    with pytest.raises(ConsultationError, match="deadline in the future"):
        services.open_consultation(late)
    assert (empty.state, late.state) == (CampaignState.DRAFT, CampaignState.DRAFT)


def test_a_new_round_reopens_a_consultation_that_was_closed_early(app, consultation):
    c = consultation
    campaign = c.campaign
    services.close_consultation(campaign)
    campaign.move_to(CampaignState.DRAFT)
    services.open_consultation(campaign)
    assert campaign.consultation_closed is None
    assert services.record_stance(campaign, c.schools[0], c.exec, StanceKind.AGREE)


# --- stances ------------------------------------------------------------------


@pytest.mark.parametrize("kind", [StanceKind.DISAGREE, StanceKind.BLOCK])
@pytest.mark.parametrize("reason", ["", "   \n "])
def test_disagreeing_or_blocking_needs_a_reason(app, consultation, kind, reason):
    c = consultation
    with pytest.raises(ConsultationError, match=f"Say why your school would {kind.value}"):
        services.record_stance(c.campaign, c.schools[0], c.exec, kind, reason)
    assert count(Stance) == 0


@pytest.mark.parametrize("kind", [StanceKind.AGREE, StanceKind.ABSTAIN])
def test_agreeing_or_abstaining_needs_no_reason(app, consultation, kind):
    c = consultation
    stance = services.record_stance(c.campaign, c.schools[0], c.exec, kind)
    assert (stance.kind, stance.reason, stance.version.number) == (kind, "", 1)


def test_the_database_refuses_a_disagreement_without_a_reason(app, consultation):
    c = consultation
    db.session.add(
        Stance(
            campaign_id=c.campaign.id,
            school_id=c.schools[0].id,
            version_id=c.campaign.current_version.id,
            kind=StanceKind.DISAGREE,
            reason="",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_same_stance_posted_twice_is_recorded_once(app, consultation):
    c = consultation
    campaign, school, user = c.campaign, c.schools[0], c.exec
    first = services.record_stance(campaign, school, user, StanceKind.DISAGREE, "Too vague.")
    assert first is not None
    db.session.commit()
    again = services.record_stance(campaign, school, user, StanceKind.DISAGREE, "  Too vague.\n")
    assert again is None
    assert count(Stance) == 1


def test_a_changed_stance_keeps_the_history(app, consultation):
    c = consultation
    campaign, school, user = c.campaign, c.schools[0], c.exec
    services.record_stance(campaign, school, user, StanceKind.AGREE)
    services.record_stance(campaign, school, user, StanceKind.DISAGREE, "Paragraph 3.")
    services.record_stance(campaign, school, user, StanceKind.DISAGREE, "Paragraph 3 and 4.")
    db.session.commit()
    history = services.dao_stance_history(campaign.id, school.id)
    assert [(s.kind, s.reason) for s in history] == [
        (StanceKind.DISAGREE, "Paragraph 3 and 4."),
        (StanceKind.DISAGREE, "Paragraph 3."),
        (StanceKind.AGREE, ""),
    ]
    latest = services.dao_latest_stances(campaign.id)
    assert list(latest) == [school.id]
    assert latest[school.id].reason == "Paragraph 3 and 4."


def test_the_same_stance_on_a_new_version_is_recorded_against_that_version(app, consultation):
    c = consultation
    campaign, school, user = c.campaign, c.schools[0], c.exec
    services.record_stance(campaign, school, user, StanceKind.AGREE)
    save_statement(campaign, "A new text.", c.lead)
    again = services.record_stance(campaign, school, user, StanceKind.AGREE)
    assert again is not None and again.version.number == 2


def test_the_tally_counts_only_each_school_s_latest_stance(app, consultation):
    c = consultation
    campaign = c.campaign
    s1, s2, s3 = c.schools
    services.record_stance(campaign, s1, c.exec, StanceKind.AGREE)
    services.record_stance(campaign, s1, c.exec, StanceKind.BLOCK, "Changed our mind.")
    services.record_stance(campaign, s2, c.exec, StanceKind.DISAGREE, "No.")
    services.record_stance(campaign, s2, c.exec, StanceKind.AGREE)
    db.session.commit()
    tally = services.tally(campaign)
    assert tally.counts == {"agree": 1, "abstain": 0, "disagree": 0, "block": 1}
    assert (tally.members, tally.responded, tally.no_answer) == (3, 2, 1)
    # The reasons given, by stance then school: the current stances only.
    services.record_stance(campaign, s3, c.head, StanceKind.DISAGREE, "Too little.")
    db.session.commit()
    reasons = services.dao_reasons(campaign.id)
    assert [(s.school.name, s.kind, s.reason) for s in reasons.rows] == [
        ("Thurrock School", StanceKind.DISAGREE, "Too little."),
        ("Saxon High", StanceKind.BLOCK, "Changed our mind."),
    ]
    assert reasons.total == 2


def test_the_tally_ignores_other_campaigns(app, consultation):
    c = consultation
    other = create_campaign(c.a, "Another", body="Text.")
    services.open_consultation(other)
    services.record_stance(other, c.schools[0], c.exec, StanceKind.AGREE)
    assert services.tally(c.campaign).responded == 0
    assert services.tally(other).counts["agree"] == 1


@pytest.fixture
def fourth_school(consultation):
    """An Essex school in the Thurrock constituency, with no head on the roster."""
    return make_school(
        consultation.a,
        urn=900004,
        name="Marsh Primary",
        local_authority="Essex",
        constituency_code="E14001535",
        constituency_name="Thurrock",
    )


def names(page) -> list[str]:
    return [s.name for s in page.rows]


def test_non_responders_filter_by_la_and_constituency(app, consultation, fourth_school):
    c = consultation
    campaign = c.campaign
    services.record_stance(campaign, c.schools[0], c.exec, StanceKind.AGREE)
    make_school(make_association(), name="Not A Member", local_authority="Essex")
    assert names(services.dao_non_responders(campaign)) == [
        "Abbey Academy",
        "Marsh Primary",
        "Thurrock School",
    ]
    assert names(services.dao_non_responders(campaign, la="Essex")) == [
        "Abbey Academy",
        "Marsh Primary",
    ]
    assert names(services.dao_non_responders(campaign, constituency="E14001535")) == [
        "Marsh Primary",
        "Thurrock School",
    ]
    assert names(services.dao_non_responders(campaign, la="Essex", constituency="E14001535")) == [
        "Marsh Primary"
    ]
    assert services.dao_non_responders(campaign, la="Kent").total == 0


def test_non_responders_are_found_by_name_or_urn_a_page_at_a_time(
    app, consultation, fourth_school, monkeypatch
):
    c = consultation
    campaign = c.campaign
    services.record_stance(campaign, c.schools[0], c.exec, StanceKind.AGREE)
    assert names(services.dao_non_responders(campaign, query="MARSH")) == ["Marsh Primary"]
    assert names(services.dao_non_responders(campaign, query=" 900002 ")) == ["Abbey Academy"]
    assert names(services.dao_non_responders(campaign, query="900001")) == []  # it answered
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    first = services.dao_non_responders(campaign)
    assert (names(first), first.total, first.page, first.pages) == (
        ["Abbey Academy", "Marsh Primary"], 3, 1, 2
    )  # fmt: skip
    assert names(services.dao_non_responders(campaign, page=2)) == ["Thurrock School"]
    # The reminder reaches the heads of all three, not only of the page shown.
    assert services.dao_reminder_head_count(campaign) == 2  # Marsh Primary has no head
    assert sorted(services.reminder_recipients(campaign)) == sorted([c.exec.id, c.head.id])


def test_reminders_go_only_to_heads_of_schools_that_have_not_answered(
    app, consultation, fourth_school
):
    c = consultation
    campaign = c.campaign
    s1, s2, s3 = c.schools
    # The executive head still owes an answer for Abbey Academy.
    services.record_stance(campaign, s1, c.exec, StanceKind.AGREE)
    assert sorted(services.reminder_recipients(campaign)) == sorted([c.exec.id, c.head.id])
    services.record_stance(campaign, s2, c.exec, StanceKind.AGREE)
    assert services.reminder_recipients(campaign) == [c.head.id]
    assert services.reminder_recipients(campaign, la="Essex") == []  # Marsh has no head
    assert services.reminder_recipients(campaign, constituency="E14001535") == [c.head.id]
    services.record_stance(campaign, s3, c.head, StanceKind.ABSTAIN)
    assert services.reminder_recipients(campaign) == []


def test_a_head_of_the_same_school_in_another_association_is_not_reminded(app, consultation):
    c = consultation
    elsewhere = make_user("elsewhere@b.example", "Ed", c.b, Role.HEAD)
    make_headship(c.b, elsewhere, c.schools[2])
    assert elsewhere.id not in services.reminder_recipients(c.campaign)


# --- the deadline and closing early -----------------------------------------------


def _actions(c):
    campaign, version = c.campaign, c.campaign.current_version
    s1, _, s3 = c.schools
    return {
        "stance": lambda: services.record_stance(campaign, s1, c.exec, StanceKind.AGREE),
        "comment": lambda: services.add_comment(campaign, version, 2, c.exec, "Good."),
        "amendment": lambda: services.propose_amendment(campaign, version, 2, c.exec, "New."),
        "evidence": lambda: evidence.save_answers(campaign, s3, c.head, {c.money.id: "5"}),
        "reminders": lambda: services.reminder_recipients(campaign),
        "close": lambda: services.close_consultation(campaign),
    }


ACTIONS = ["stance", "comment", "amendment", "evidence", "reminders", "close"]


def _nothing_saved() -> bool:
    return [count(m) for m in (Stance, Comment, Amendment, EvidenceAnswer)] == [0, 0, 0, 0]


@pytest.mark.parametrize("action", ACTIONS)
def test_nothing_changes_after_the_deadline(app, consultation, action):
    campaign = consultation.campaign
    campaign.consultation_deadline = datetime(2025, 3, 14, 17, 0, tzinfo=UTC)
    db.session.commit()
    with pytest.raises(ConsultationError, match="closed on 14 March 2025 at 5pm"):
        _actions(consultation)[action]()
    assert _nothing_saved()
    assert campaign.consultation_closed is None


@pytest.mark.parametrize("action", ACTIONS)
def test_nothing_changes_after_the_lead_closes_early(app, consultation, action):
    campaign = consultation.campaign
    deadline = datetime.now(UTC) + timedelta(days=7)
    campaign.consultation_deadline = deadline
    services.close_consultation(campaign)
    db.session.commit()
    closed = campaign.consultation_closed
    assert closed is not None and closed < deadline
    with pytest.raises(ConsultationError) as refused:
        _actions(consultation)[action]()
    assert f"closed on {when(closed)}" in str(refused.value)
    assert when(deadline) not in str(refused.value)
    assert _nothing_saved()
    assert campaign.consultation_closed == closed


@pytest.mark.parametrize("action", ACTIONS)
def test_nothing_changes_outside_a_consultation(app, consultation, action):
    consultation.campaign.move_to(CampaignState.DRAFT)
    with pytest.raises(ConsultationError, match="not being consulted on"):
        _actions(consultation)[action]()
    assert _nothing_saved()


def test_just_before_the_deadline_answers_are_taken(app, consultation):
    c = consultation
    c.campaign.consultation_deadline = datetime.now(UTC) + timedelta(minutes=1)
    assert services.record_stance(c.campaign, c.schools[0], c.exec, StanceKind.AGREE)


# --- comments -----------------------------------------------------------------


def test_comments_are_checked_and_a_double_post_is_one_comment(app, consultation):
    c = consultation
    campaign, version, user = c.campaign, c.campaign.current_version, c.exec
    comment = services.add_comment(campaign, version, 3, user, "  Say SEND in full.  ")
    assert (comment.paragraph, comment.body) == (3, "Say SEND in full.")
    assert services.add_comment(campaign, version, 3, user, "Say SEND in full.") is None
    assert services.add_comment(campaign, version, 2, user, "Say SEND in full.") is not None
    for paragraph in (0, 5):
        with pytest.raises(ConsultationError, match=f"Version 1 has no paragraph {paragraph}"):
            services.add_comment(campaign, version, paragraph, user, "Hmm.")
    with pytest.raises(ConsultationError, match="Write your comment"):
        services.add_comment(campaign, version, 1, user, " \n ")
    with pytest.raises(ConsultationError, match="at most 5,000"):
        services.add_comment(campaign, version, 1, user, "x" * 5001)
    assert count(Comment) == 2


# --- amendments ---------------------------------------------------------------


def propose(c, paragraph=3, replacement="Second paragraph about special needs.", user=None):
    campaign = c.campaign
    return services.propose_amendment(
        campaign, campaign.current_version, paragraph, user or c.exec, replacement, "Clearer."
    )


def test_proposals_are_checked_and_a_double_post_is_one_proposal(app, consultation):
    c = consultation
    assert propose(c).text == "Second paragraph about special needs."
    assert propose(c, replacement="Second paragraph about special needs.  \r\n") is None
    refusals = [
        (3, "Second paragraph about SEND.", "same as the paragraph"),
        (3, " \n ", "Write the text you propose"),
        (3, "One.\n\nTwo.", "one paragraph at a time"),
        (5, "New.", "has no paragraph 5"),
        (3, "x" * 100_001, "too long"),
    ]
    for paragraph, replacement, message in refusals:
        with pytest.raises(ConsultationError, match=message):
            propose(c, paragraph, replacement)
    assert count(Amendment) == 1


def test_accepting_makes_a_new_version_with_exactly_that_paragraph_replaced(app, consultation):
    c = consultation
    campaign, lead = c.campaign, c.lead
    amendment = propose(c)
    db.session.commit()
    version = services.decide_amendment(amendment, campaign, accept=True, note=" Yes. ", by=lead)
    db.session.commit()
    assert version.number == 2 and campaign.current_version == version
    assert text.paragraphs(version.body) == [
        "# Fair funding",
        "First paragraph.",
        "Second paragraph about special needs.",
        "Third paragraph.",
    ]
    assert version.sha256 == text.sha256(version.body)
    assert version.author == lead and "paragraph 3" in version.note
    assert (amendment.state, amendment.result_version, amendment.decision_note) == (
        AmendmentState.ACCEPTED,
        version,
        "Yes.",
    )
    assert amendment.decided_by_id == lead.id and amendment.decided is not None


def test_an_amendment_whose_paragraph_moved_replaces_it_where_it_now_is(app, consultation):
    c = consultation
    campaign = c.campaign
    amendment = propose(c)
    save_statement(campaign, "\n\n".join(["A new opening.", *PARAGRAPHS]), c.lead)
    version = services.decide_amendment(amendment, campaign, accept=True, note="", by=c.lead)
    before, after = (
        text.paragraphs(version.campaign.versions[-2].body),
        text.paragraphs(version.body),
    )
    assert len(before) == len(after) == 5
    assert [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a] == [3]
    assert after[3] == "Second paragraph about special needs."


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (None, ["Intro.", "We agree.", "Middle.", "We agree, with conditions."]),
        (
            "New opening.\n\nIntro.\n\nWe agree.\n\nMiddle.\n\nWe agree.",
            ["New opening.", "Intro.", "We agree.", "Middle.", "We agree, with conditions."],
        ),
    ],
    ids=["unedited", "moved-down"],
)
def test_accepting_replaces_the_numbered_paragraph_even_when_another_reads_the_same(
    app, edit, expected
):
    a = make_association()
    lead, head = make_user(association=a, role=Role.LEAD), make_user(association=a)
    body = "Intro.\n\nWe agree.\n\nMiddle.\n\nWe agree."
    campaign = create_campaign(a, "Repeats", body=body, author=lead)
    services.open_consultation(campaign)
    amendment = services.propose_amendment(
        campaign, campaign.current_version, 4, head, "We agree, with conditions."
    )
    if edit:
        save_statement(campaign, edit, lead)
    version = services.decide_amendment(amendment, campaign, accept=True, note="", by=lead)
    assert text.paragraphs(version.body) == expected


def test_rejecting_makes_no_version(app, consultation):
    c = consultation
    amendment = propose(c)
    assert (
        services.decide_amendment(amendment, c.campaign, accept=False, note="No.", by=c.lead)
        is None
    )
    db.session.commit()
    assert versions(c.campaign) == [1]
    assert (amendment.state, amendment.result_version, amendment.decision_note) == (
        AmendmentState.REJECTED,
        None,
        "No.",
    )


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("second", [True, False])
def test_an_amendment_is_decided_once(app, consultation, first, second):
    c = consultation
    amendment = propose(c)
    services.decide_amendment(amendment, c.campaign, accept=first, note="", by=c.lead)
    db.session.commit()
    state = "accepted" if first else "rejected"
    with pytest.raises(ConsultationError, match=f"already {state}"):
        services.decide_amendment(amendment, c.campaign, accept=second, note="", by=c.lead)
    assert versions(c.campaign) == ([1, 2] if first else [1])


def test_accepting_is_refused_once_the_paragraph_has_changed(app, consultation):
    c = consultation
    campaign = c.campaign
    first = propose(c)
    second = propose(c, replacement="Second paragraph about pupils with SEND.", user=c.head)
    services.decide_amendment(first, campaign, accept=True, note="", by=c.lead)
    db.session.commit()
    with pytest.raises(ConsultationError, match="paragraph has changed"):
        services.decide_amendment(second, campaign, accept=True, note="", by=c.lead)
    db.session.rollback()
    assert versions(campaign) == [1, 2]
    assert second.state is AmendmentState.PROPOSED
    # It can still be rejected.
    services.decide_amendment(second, campaign, accept=False, note="Overtaken.", by=c.lead)
    assert second.state is AmendmentState.REJECTED


def test_accepting_is_refused_after_a_hand_edit_of_the_paragraph(app, consultation):
    c = consultation
    campaign = c.campaign
    amendment = propose(c)
    edited = PARAGRAPHS.copy()
    edited[2] = "Second paragraph about SEND, edited by the lead."
    save_statement(campaign, "\n\n".join(edited), c.lead)
    with pytest.raises(ConsultationError, match="paragraph has changed"):
        services.decide_amendment(amendment, campaign, accept=True, note="", by=c.lead)
    assert versions(campaign) == [1, 2]


def test_amendments_are_decided_only_during_a_consultation(app, consultation):
    c = consultation
    amendment = propose(c)
    c.campaign.move_to(CampaignState.SIGNOFF)
    with pytest.raises(ConsultationError, match="only during a consultation"):
        services.decide_amendment(amendment, c.campaign, accept=True, note="", by=c.lead)
    assert amendment.state is AmendmentState.PROPOSED


def test_people_to_tell_are_who_proposed_or_commented_on_that_paragraph(app, consultation):
    c = consultation
    campaign, v1 = c.campaign, c.campaign.current_version
    commenter = make_user("commenter@a.example", "Cy", c.a)
    elsewhere = make_user("elsewhere@a.example", "El", c.a)
    amendment = propose(c)  # by the executive head, on paragraph 3
    propose(c, replacement="Another take on SEND.", user=c.head)
    services.add_comment(campaign, v1, 3, commenter, "Agree with the change.")
    services.add_comment(campaign, v1, 3, commenter, "And another thought.")
    services.add_comment(campaign, v1, 2, elsewhere, "On paragraph 2.")
    v2 = save_statement(campaign, "\n\n".join([*PARAGRAPHS, "Fourth."]), c.lead)
    services.add_comment(campaign, v2, 3, elsewhere, "Paragraph 3 of version 2.")
    db.session.commit()
    assert services.people_to_tell(amendment) == sorted([c.exec.id, c.head.id, commenter.id])


def test_feedback_is_listed_oldest_first(app, consultation):
    c = consultation
    campaign, version = c.campaign, c.campaign.current_version
    services.add_comment(campaign, version, 1, c.exec, "First.")
    services.add_comment(campaign, version, 2, c.head, "Second.")
    first = propose(c)
    second = propose(c, replacement="Other.", user=c.head)
    comments, amendments = services.dao_feedback(campaign.id)
    assert [x.body for x in comments] == ["First.", "Second."]
    assert amendments == [first, second]
    assert services.dao_amendment(campaign.id, first.id) == first
    other = create_campaign(c.a, "Other", body="Text.")
    db.session.flush()
    assert services.dao_amendment(other.id, first.id) is None

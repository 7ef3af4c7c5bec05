"""Evidence answers: what is accepted, how money is rounded, saving, totals and the CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from campaign.consultation import evidence
from campaign.consultation.evidence import (
    AnswerInvalid,
    add_question,
    answers_csv,
    parse_answer,
    save_answers,
    totals,
)
from campaign.consultation.models import EvidenceAnswer, EvidenceQuestion, QuestionKind
from campaign.extensions import db
from tests.factories import make_association, make_headship, make_school, make_user


def question(kind: QuestionKind, required: bool = False) -> EvidenceQuestion:
    return EvidenceQuestion(kind=kind, prompt="Q", required=required)


@pytest.mark.parametrize(
    ("raw", "pounds"),
    [
        ("£1,250,000", 1250000),
        ("1250000", 1250000),
        ("1,250,000.50", 1250001),  # halves round up
        ("1,250,000.40", 1250000),
        ("1250000.49", 1250000),
        ("2.5", 3),
        ("0.5", 1),
        (" £ 12 ", 12),
        ("£999", 999),
        ("0", 0),
    ],
)
def test_money_accepted_and_rounded_to_whole_pounds(raw, pounds):
    number, text_value = parse_answer(question(QuestionKind.MONEY), raw)
    assert (number, text_value) == (Decimal(pounds), "")
    assert number == number.to_integral_value()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.25m", "Write the amount in full"),
        ("1.25M", "Write the amount in full"),
        ("£1.2k", "Write the amount in full"),
        ("2 million", "Write the amount in full"),
        ("3bn", "Write the amount in full"),
        ("-5", "cannot be negative"),
        ("£-5", "cannot be negative"),
        ("-£5", "cannot be negative"),
        ("12,34", "Enter an amount in pounds"),
        ("1,2345", "Enter an amount in pounds"),
        ("1.250.000", "Enter an amount in pounds"),
        ("1e6", "Enter an amount in pounds"),
        ("about 10", "Enter an amount in pounds"),
        ("£", "Enter an amount in pounds"),
        ("NaN", "Enter an amount in pounds"),
        ("$100", "Enter an amount in pounds"),
    ],
)
def test_money_refused_with_a_clear_message(raw, message):
    with pytest.raises(AnswerInvalid, match=message):
        parse_answer(question(QuestionKind.MONEY), raw)


@pytest.mark.parametrize(
    ("raw", "number"),
    [("12", "12.00"), ("1,234.5", "1234.50"), ("-3", "-3.00"), ("0.125", "0.13")],
)
def test_numbers_are_kept_to_two_places(raw, number):
    assert parse_answer(question(QuestionKind.NUMBER), raw) == (Decimal(number), "")


@pytest.mark.parametrize(("raw", "message"), [("12k", "in full"), ("twelve", "Enter a number")])
def test_numbers_refused_with_a_clear_message(raw, message):
    with pytest.raises(AnswerInvalid, match=message):
        parse_answer(question(QuestionKind.NUMBER), raw)


@pytest.mark.parametrize(
    ("raw", "stored"), [("Yes", "yes"), ("y", "yes"), (" YES ", "yes"), ("No", "no"), ("n", "no")]
)
def test_yes_or_no(raw, stored):
    assert parse_answer(question(QuestionKind.YES_NO), raw) == (None, stored)


@pytest.mark.parametrize("raw", ["maybe", "true", "1", "yes!"])
def test_anything_else_is_not_yes_or_no(raw):
    with pytest.raises(AnswerInvalid, match="Choose yes or no"):
        parse_answer(question(QuestionKind.YES_NO), raw)


def test_short_text_is_trimmed_and_limited():
    assert parse_answer(question(QuestionKind.TEXT), " Some words ") == (None, "Some words")
    assert parse_answer(question(QuestionKind.TEXT), "x" * 500) == (None, "x" * 500)
    with pytest.raises(AnswerInvalid, match="at most 500"):
        parse_answer(question(QuestionKind.TEXT), "x" * 501)


@pytest.mark.parametrize("kind", list(QuestionKind))
@pytest.mark.parametrize("blank", ["", "   ", None])
def test_blank_is_no_answer_unless_the_question_is_required(kind, blank):
    assert parse_answer(question(kind), blank) == (None, "")
    with pytest.raises(AnswerInvalid, match="Answer this question"):
        parse_answer(question(kind, required=True), blank)


def test_questions_are_numbered_in_the_order_they_were_added(app, consultation):
    campaign = consultation.campaign
    third = add_question(campaign, QuestionKind.YES_NO, "  Cutting trips?  ", help=" Any. ")
    assert (third.position, third.prompt, third.help) == (2, "Cutting trips?", "Any.")
    assert [q.prompt for q in evidence.dao_questions(campaign.id)] == [
        "Projected deficit",
        "Posts cut",
        "Cutting trips?",
    ]


def answers_of(school) -> dict[str, str]:
    db.session.expire_all()
    return {
        a.question.prompt: a.number_value if a.number_value is not None else a.text_value
        for a in db.session.scalars(
            select(EvidenceAnswer).where(EvidenceAnswer.school_id == school.id)
        )
    }


def test_answers_are_saved_and_edited_in_place(app, consultation):
    c = consultation
    campaign, money, posts, school = c.campaign, c.money, c.posts, c.schools[2]
    assert save_answers(campaign, school, c.head, {money.id: "£1,250,000.50", posts.id: "3"}) == {}
    db.session.commit()
    assert answers_of(school) == {"Projected deficit": Decimal(1250001), "Posts cut": Decimal(3)}
    assert save_answers(campaign, school, c.head, {money.id: "900", posts.id: ""}) == {}
    db.session.commit()
    assert answers_of(school) == {"Projected deficit": Decimal(900)}  # a blank clears
    assert db.session.scalar(select(func.count()).select_from(EvidenceAnswer)) == 1


def test_one_bad_answer_saves_none(app, consultation):
    c = consultation
    campaign, money, posts = c.campaign, c.money, c.posts
    errors = save_answers(campaign, c.schools[2], c.head, {money.id: "5", posts.id: "lots"})
    assert errors == {posts.id: "Enter a number, like 12"}
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(EvidenceAnswer)) == 0


def test_one_bad_answer_leaves_earlier_answers_as_they_were(app, consultation):
    c = consultation
    campaign, money, posts, school = c.campaign, c.money, c.posts, c.schools[2]
    save_answers(campaign, school, c.head, {money.id: "100", posts.id: "2"})
    db.session.commit()
    errors = save_answers(campaign, school, c.head, {money.id: "1.5m", posts.id: "4"})
    assert list(errors) == [money.id]
    errors = save_answers(campaign, school, c.head, {money.id: "", posts.id: "4"})
    assert list(errors) == [money.id]  # the required answer cannot be cleared
    db.session.commit()
    assert answers_of(school) == {"Projected deficit": Decimal(100), "Posts cut": Decimal(2)}


def test_every_error_is_reported_at_once(app, consultation):
    c = consultation
    errors = save_answers(c.campaign, c.schools[2], c.head, {c.posts.id: "-"})
    assert errors == {
        c.money.id: "Answer this question",
        c.posts.id: "Enter a number, like 12",
    }


def test_the_database_keeps_one_answer_per_school_and_question(app, consultation):
    from sqlalchemy.exc import IntegrityError

    c = consultation
    for _ in range(2):
        db.session.add(
            EvidenceAnswer(
                question_id=c.money.id, school_id=c.schools[0].id, number_value=Decimal(1)
            )
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def answer_all(c, amounts: dict[int, str]) -> None:
    heads = {0: "exec", 1: "exec", 2: "head"}
    for i, amount in amounts.items():
        school = c.schools[i]
        assert save_answers(c.campaign, school, getattr(c, heads[i]), {c.money.id: amount}) == {}
    db.session.commit()


def test_totals_per_local_authority_with_sums_and_means(app, consultation):
    c = consultation
    make_school(c.a, urn=900009, name="No LA School", local_authority="")
    answer_all(c, {0: "1000", 1: "2001", 2: "500"})
    by_la = {
        t.group: (t.schools, t.answered, t.total, t.mean) for t in totals(c.campaign, c.money, "la")
    }
    assert by_la == {
        "Essex": (2, 2, Decimal(3001), Decimal(1501)),  # mean 1500.5, halves up like answers
        "Thurrock": (1, 1, Decimal(500), Decimal(500)),
        "Unknown": (1, 0, Decimal(0), None),
    }


def test_totals_per_constituency_count_only_schools_that_answered_in_the_mean(app, consultation):
    c = consultation
    make_school(c.a, urn=900009, name="Unplaced School", local_authority="Essex")
    answer_all(c, {0: "1,000", 2: "£500"})
    by_seat = [
        (t.group, t.schools, t.answered, t.total, t.mean)
        for t in totals(c.campaign, c.money, "constituency")
    ]
    assert by_seat == [
        ("Basildon and Billericay", 2, 1, Decimal(1000), Decimal(1000)),
        ("Thurrock", 1, 1, Decimal(500), Decimal(500)),
        ("Unknown constituency", 1, 0, Decimal(0), None),
    ]


def test_totals_leave_out_schools_of_other_associations_and_other_questions(app, consultation):
    c = consultation
    answers = {c.money.id: "1000", c.posts.id: "7"}
    assert save_answers(c.campaign, c.schools[0], c.exec, answers) == {}
    other = make_association()
    outsider = make_school(other, name="Outsider", local_authority="Essex")
    db.session.add(EvidenceAnswer(question_id=c.money.id, school_id=outsider.id, number_value=5))
    db.session.commit()
    essex = next(t for t in totals(c.campaign, c.money, "la") if t.group == "Essex")
    assert (essex.schools, essex.answered, essex.total) == (2, 1, Decimal(1000))


def test_totals_count_yes_answers(app, consultation):
    c = consultation
    trips = add_question(c.campaign, QuestionKind.YES_NO, "Cutting trips?", required=True)
    for i, (who, yes_no) in enumerate((("exec", "yes"), ("exec", "no"), ("head", "Y"))):
        answers = {c.money.id: "1", trips.id: yes_no}
        assert save_answers(c.campaign, c.schools[i], getattr(c, who), answers) == {}
    db.session.commit()
    by_la = {t.group: (t.answered, t.yes) for t in totals(c.campaign, trips, "la")}
    assert by_la == {"Essex": (2, 1), "Thurrock": (1, 1)}


def test_answers_csv_has_a_header_and_one_row_per_member_school(app, consultation):
    c = consultation
    s1, s2, s3 = c.schools
    make_headship(c.a, make_user(association=c.a), s1)  # a co-head: still one row
    make_school(make_association(), name="Outsider")
    answer_all(c, {0: "£1,250,000.50", 2: "12"})
    save_answers(c.campaign, s1, c.exec, {c.money.id: "1250000.5", c.posts.id: "2.5"})
    db.session.commit()
    rows = list(csv.reader(io.StringIO(answers_csv(c.campaign))))
    assert rows[0] == [
        "URN",
        "School",
        "Local authority",
        "Constituency code",
        "Constituency",
        "Projected deficit",
        "Posts cut",
    ]
    assert rows[1:] == [
        ["900002", "Abbey Academy", "Essex", "E14001077", "Basildon and Billericay", "", ""],
        ["900001", "Saxon High", "Essex", "E14001077", "Basildon and Billericay", "1250001", "2.5"],
        ["900003", "Thurrock School", "Thurrock", "E14001535", "Thurrock", "12", ""],
    ]


def test_answers_read_as_a_person_would_write_them(app, consultation):
    c = consultation
    trips = add_question(c.campaign, QuestionKind.YES_NO, "Cutting trips?")
    note = add_question(c.campaign, QuestionKind.TEXT, "Anything else?")
    school = c.schools[2]
    raw = {c.money.id: "1,250,000", c.posts.id: "1234.5", trips.id: "y", note.id: "Roof."}
    assert save_answers(c.campaign, school, c.head, raw) == {}
    db.session.commit()
    db.session.expire_all()
    saved = evidence.dao_answers_for_school(c.campaign.id, school.id)
    shown = {
        q.prompt: evidence.display(q, saved.get(q.id))
        for q in evidence.dao_questions(c.campaign.id)
    }
    assert shown == {
        "Projected deficit": "£1,250,000",
        "Posts cut": "1,234.5",
        "Cutting trips?": "Yes",
        "Anything else?": "Roof.",
    }
    assert evidence.display(c.money, None) == ""
    assert evidence.raw_value(c.posts, saved[c.posts.id]) == "1234.5"
    assert evidence.raw_value(c.money, saved[c.money.id]) == "1250000"

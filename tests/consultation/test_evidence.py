"""Evidence answers: what is accepted, how money is rounded, and the totals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaign.consultation.evidence import AnswerInvalid, parse_answer, totals
from campaign.consultation.models import EvidenceQuestion, QuestionKind


def question(kind: QuestionKind, required: bool = False) -> EvidenceQuestion:
    return EvidenceQuestion(kind=kind, prompt="Q", required=required)


@pytest.mark.parametrize(
    ("raw", "pounds"),
    [
        ("£1,250,000", 1250000),
        ("1250000", 1250000),
        ("1,250,000.50", 1250001),  # halves round up
        ("1250000.49", 1250000),
        (" £ 12 ", 12),
        ("0", 0),
    ],
)
def test_money_accepted_and_rounded_to_whole_pounds(raw, pounds):
    assert parse_answer(question(QuestionKind.MONEY), raw) == (Decimal(pounds), "")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.25m", "Write the amount in full"),
        ("£1.2k", "Write the amount in full"),
        ("2 million", "Write the amount in full"),
        ("-5", "cannot be negative"),
        ("12,34", "Enter an amount in pounds"),
        ("about 10", "Enter an amount in pounds"),
    ],
)
def test_money_refused_with_a_clear_message(raw, message):
    with pytest.raises(AnswerInvalid, match=message):
        parse_answer(question(QuestionKind.MONEY), raw)


def test_numbers_yes_no_text_and_required():
    assert parse_answer(question(QuestionKind.NUMBER), "1,234.5") == (Decimal("1234.50"), "")
    assert parse_answer(question(QuestionKind.NUMBER), "-3") == (Decimal("-3.00"), "")
    assert parse_answer(question(QuestionKind.YES_NO), "Yes") == (None, "yes")
    assert parse_answer(question(QuestionKind.TEXT), " Some words ") == (None, "Some words")
    assert parse_answer(question(QuestionKind.MONEY), "") == (None, "")
    with pytest.raises(AnswerInvalid, match="Answer this question"):
        parse_answer(question(QuestionKind.MONEY, required=True), "  ")
    with pytest.raises(AnswerInvalid, match="Choose yes or no"):
        parse_answer(question(QuestionKind.YES_NO), "maybe")
    with pytest.raises(AnswerInvalid, match="at most 500"):
        parse_answer(question(QuestionKind.TEXT), "x" * 501)


def test_totals_per_local_authority_and_constituency(app, consultation):
    from campaign.consultation.evidence import save_answers
    from campaign.extensions import db

    campaign, money = consultation["campaign"], consultation["money"]
    s1, s2, s3 = consultation["schools"]
    for school, user, amount in ((s1, "exec", "1000"), (s2, "exec", "2001"), (s3, "head", "500")):
        assert save_answers(campaign, school, consultation[user], {money.id: amount}) == {}
    db.session.commit()
    by_la = {
        t.group: (t.schools, t.answered, t.total, t.mean) for t in totals(campaign, money, "la")
    }
    assert by_la == {
        "Essex": (2, 2, Decimal(3001), Decimal(1501)),  # mean 1500.5, halves up like answers
        "Thurrock": (1, 1, Decimal(500), Decimal(500)),
    }
    by_seat = {t.group: t.total for t in totals(campaign, money, "constituency")}
    assert by_seat == {"Basildon and Billericay": Decimal(3001), "Thurrock": Decimal(500)}


def test_one_bad_answer_saves_none(app, consultation):
    from sqlalchemy import func, select

    from campaign.consultation.evidence import save_answers
    from campaign.consultation.models import EvidenceAnswer
    from campaign.extensions import db

    campaign, money, posts = consultation["campaign"], consultation["money"], consultation["posts"]
    errors = save_answers(
        campaign,
        consultation["schools"][2],
        consultation["head"],
        {money.id: "5", posts.id: "lots"},
    )
    assert errors == {posts.id: "Enter a number, like 12"}
    assert db.session.scalar(select(func.count()).select_from(EvidenceAnswer)) == 0

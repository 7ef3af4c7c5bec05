"""Evidence questions: the figures each school contributes, checked and summed.

Money is whole pounds. "£1,250,000", "1250000" and "1,250,000.40" are accepted
(pence are rounded to the nearest pound, halves up); negative amounts and
shorthand such as "1.25m" or "£1.2k" are refused with a message asking for the
amount in full, because a misread multiplier would put a wrong figure in a
letter to an MP.

Money and numbers are at most 999,999,999,999 either way (MAX_ANSWER): far above
any school's figure, and well inside the answer column's Numeric(18, 2).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from campaign.consultation.models import EvidenceAnswer, EvidenceQuestion, QuestionKind
from campaign.consultation.services import require_open
from campaign.directory.models import School, User
from campaign.downloads import csv_writer
from campaign.drafting.models import Campaign
from campaign.extensions import db

_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_GROUPED = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
_SHORTHAND = re.compile(r"\d\s*(k|m|bn|b|thousand|million|billion)\b", re.IGNORECASE)
YES_NO = {"yes": "yes", "y": "yes", "no": "no", "n": "no"}
MAX_ANSWER = Decimal("999999999999")


class AnswerInvalid(ValueError):
    """An answer that cannot be accepted; the message tells the head how to fix it."""


def add_question(
    campaign: Campaign, kind: QuestionKind, prompt: str, help: str = "", required: bool = False
) -> EvidenceQuestion:
    """Add a question at the end of the campaign's list. The caller commits."""
    position = len(dao_questions(campaign.id))
    question = EvidenceQuestion(
        campaign_id=campaign.id,
        position=position,
        kind=kind,
        prompt=prompt.strip(),
        help=help.strip(),
        required=required,
    )
    db.session.add(question)
    db.session.flush()
    return question


def dao_questions(campaign_id: int) -> list[EvidenceQuestion]:
    return list(
        db.session.scalars(
            select(EvidenceQuestion)
            .where(EvidenceQuestion.campaign_id == campaign_id)
            .order_by(EvidenceQuestion.position, EvidenceQuestion.id)
        )
    )


def _decimal(raw: str, *, money: bool) -> Decimal:
    cleaned = raw.strip().replace(" ", "")
    if money:
        cleaned = cleaned.replace("£", "", 1)
    if _SHORTHAND.search(raw):
        raise AnswerInvalid(
            "Write the amount in full, like 1250000 or £1,250,000"
            if money
            else "Write the number in full, like 1250000"
        )
    if not (_NUMBER.match(cleaned) or _GROUPED.match(cleaned)):
        raise AnswerInvalid(
            "Enter an amount in pounds, like £1,250,000" if money else "Enter a number, like 12"
        )
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise AnswerInvalid("Enter a number, like 12") from None


def _bounded(value: Decimal, unit: Decimal, message: str) -> Decimal:
    """The value rounded to `unit` (halves up), if it is within MAX_ANSWER either way."""
    # Checked before rounding too: rounding fails beyond 28 digits.
    if abs(value) > MAX_ANSWER + 1:
        raise AnswerInvalid(message)
    rounded = value.quantize(unit, rounding=ROUND_HALF_UP)
    if abs(rounded) > MAX_ANSWER:
        raise AnswerInvalid(message)
    return rounded


def parse_answer(question: EvidenceQuestion, raw: str) -> tuple[Decimal | None, str]:
    """(number, text) to store for a typed answer; (None, "") for a blank one.

    Raises AnswerInvalid with a message for the head.
    """
    raw = (raw or "").strip()
    if not raw:
        if question.required:
            raise AnswerInvalid("Answer this question")
        return None, ""
    if question.kind is QuestionKind.MONEY:
        amount = _decimal(raw, money=True)
        if amount < 0:
            raise AnswerInvalid(
                "The amount cannot be negative: enter the deficit as a positive amount"
            )
        return _bounded(amount, Decimal(1), f"Enter an amount up to £{MAX_ANSWER:,}"), ""
    if question.kind is QuestionKind.NUMBER:
        number = _decimal(raw, money=False)
        message = f"Enter a number from -{MAX_ANSWER:,} to {MAX_ANSWER:,}"
        return _bounded(number, Decimal("0.01"), message), ""
    if question.kind is QuestionKind.YES_NO:
        if raw.lower() not in YES_NO:
            raise AnswerInvalid("Choose yes or no")
        return None, YES_NO[raw.lower()]
    if len(raw) > (limit := EvidenceAnswer.text_value.type.length):
        raise AnswerInvalid(f"The answer can be at most {limit} characters")
    return None, raw


def check_answers(
    questions: list[EvidenceQuestion], raw_answers: dict[int, str]
) -> tuple[dict[int, tuple[Decimal | None, str]], dict[int, str]]:
    """Parse every answer: (parsed values, error messages), both by question id."""
    parsed, errors = {}, {}
    for question in questions:
        try:
            parsed[question.id] = parse_answer(question, raw_answers.get(question.id, ""))
        except AnswerInvalid as exc:
            errors[question.id] = str(exc)
    return parsed, errors


def save_answers(
    campaign: Campaign, school: School, user: User, raw_answers: dict[int, str]
) -> dict[int, str]:
    """Check every answer, then save them all, or none: returns errors by question id.

    The caller commits when there are no errors.
    """
    require_open(campaign)
    questions = dao_questions(campaign.id)
    parsed, errors = check_answers(questions, raw_answers)
    if errors:
        return errors
    existing = dao_answers_for_school(campaign.id, school.id)
    for question in questions:
        number, text_value = parsed[question.id]
        answer = existing.get(question.id)
        if number is None and not text_value:
            if answer is not None:
                db.session.delete(answer)
            continue
        if answer is None:
            answer = EvidenceAnswer(question_id=question.id, school_id=school.id)
            db.session.add(answer)
        answer.user_id, answer.number_value, answer.text_value = user.id, number, text_value
    db.session.flush()
    return {}


def dao_answers_for_school(campaign_id: int, school_id: int) -> dict[int, EvidenceAnswer]:
    return {
        a.question_id: a
        for a in db.session.scalars(
            select(EvidenceAnswer)
            .join(EvidenceQuestion)
            .where(
                EvidenceQuestion.campaign_id == campaign_id, EvidenceAnswer.school_id == school_id
            )
        )
    }


def display(question: EvidenceQuestion, answer: EvidenceAnswer | None) -> str:
    """An answer as a person reads it: "£1,250,000", "12", "Yes"."""
    if answer is None:
        return ""
    if question.kind is QuestionKind.MONEY:
        return f"£{answer.number_value:,.0f}"
    if question.kind is QuestionKind.NUMBER:
        value = answer.number_value.normalize()
        return f"{value:,f}" if value != value.to_integral() else f"{int(value):,}"
    return (
        answer.text_value.capitalize()
        if question.kind is QuestionKind.YES_NO
        else answer.text_value
    )


def raw_value(question: EvidenceQuestion, answer: EvidenceAnswer | None) -> str:
    """An answer as it goes back into the form field."""
    if answer is None:
        return ""
    if answer.number_value is not None:
        return format(answer.number_value.normalize(), "f")
    return answer.text_value


@dataclass
class GroupTotal:
    group: str
    schools: int
    answered: int
    total: Decimal
    yes: int = 0

    @property
    def mean(self) -> Decimal | None:
        if not self.answered:
            return None
        return (self.total / self.answered).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def totals(campaign: Campaign, question: EvidenceQuestion, by: str) -> list[GroupTotal]:
    """Per local authority ("la") or constituency ("constituency"): member schools,
    how many answered, the sum and mean (numbers and money) or yes count."""
    rows = db.session.execute(
        select(School, EvidenceAnswer)
        .outerjoin(
            EvidenceAnswer,
            (EvidenceAnswer.school_id == School.id) & (EvidenceAnswer.question_id == question.id),
        )
        .where(School.association_id == campaign.association_id)
        .options(joinedload(School.constituency))
    ).all()
    groups: dict[str, GroupTotal] = {}
    for school, answer in rows:
        if by == "la":
            name = school.local_authority or "Unknown"
        else:
            name = school.constituency.name if school.constituency else "Unknown constituency"
        group = groups.setdefault(name, GroupTotal(name, 0, 0, Decimal(0)))
        group.schools += 1
        if answer is None:
            continue
        group.answered += 1
        if answer.number_value is not None:
            group.total += answer.number_value
        if answer.text_value == "yes":
            group.yes += 1
    return sorted(groups.values(), key=lambda g: g.group)


def dao_answers(campaign_id: int) -> dict[tuple[int, int], EvidenceAnswer]:
    """Every answer to the campaign's questions, by (school id, question id)."""
    return {
        (a.school_id, a.question_id): a
        for a in db.session.scalars(
            select(EvidenceAnswer)
            .join(EvidenceQuestion)
            .where(EvidenceQuestion.campaign_id == campaign_id)
        )
    }


def dao_member_schools(association_id: int) -> list[School]:
    """Every member school, by name, with its constituency loaded."""
    return list(
        db.session.scalars(
            select(School)
            .where(School.association_id == association_id)
            .options(joinedload(School.constituency))
            .order_by(School.name)
        )
    )


def answers_csv(campaign: Campaign) -> str:
    """Every member school with its answer to every question, one row per school."""
    questions = dao_questions(campaign.id)
    answers = dao_answers(campaign.id)
    out = io.StringIO()
    writer = csv_writer(out)
    header = ["URN", "School", "Local authority", "Constituency code", "Constituency"]
    writer.writerow(header + [q.prompt for q in questions])
    for school in dao_member_schools(campaign.association_id):
        writer.writerow(
            [
                school.urn,
                school.name,
                school.local_authority,
                school.constituency_code,
                school.constituency.name if school.constituency else "",
                *(raw_value(q, answers.get((school.id, q.id))) for q in questions),
            ]
        )
    return out.getvalue()

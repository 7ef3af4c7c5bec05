"""Retention: a finished campaign's consultation keeps what was said (stances,
comments, amendments, evidence) but no longer who said it."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update

from campaign.consultation.models import (
    Amendment,
    Comment,
    EvidenceAnswer,
    EvidenceQuestion,
    Reminder,
    Stance,
)
from campaign.extensions import db


def anonymise_consultation(campaign_ids: Collection[int]) -> int:
    """Unlink the people from the campaigns' stances, comments, amendments, evidence
    answers and reminders (the schools stay, so every tally does); how many rows
    changed. The caller commits."""
    if not campaign_ids:
        return 0
    changed = 0
    for model in (Stance, Comment):
        changed += _unlink(model, model.campaign_id.in_(campaign_ids), model.user_id.is_not(None))
    changed += _unlink(
        Amendment,
        Amendment.campaign_id.in_(campaign_ids),
        Amendment.user_id.is_not(None) | Amendment.decided_by_id.is_not(None),
        decided_by_id=None,
    )
    changed += _unlink(
        Reminder,
        Reminder.campaign_id.in_(campaign_ids),
        Reminder.by_id.is_not(None),
        person="by_id",
    )
    questions = select(EvidenceQuestion.id).where(EvidenceQuestion.campaign_id.in_(campaign_ids))
    changed += _unlink(
        EvidenceAnswer,
        EvidenceAnswer.question_id.in_(questions),
        EvidenceAnswer.user_id.is_not(None),
    )
    return changed


def _unlink(model, *where, person: str = "user_id", **also) -> int:
    result = db.session.execute(
        update(model).where(*where).values({person: None, **also}),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0

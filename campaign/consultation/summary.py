"""The consultation summary as one CSV: every member school, its stance and reason."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from campaign.consultation.evidence import (
    dao_answers,
    dao_member_schools,
    dao_questions,
    raw_value,
)
from campaign.consultation.models import EvidenceAnswer, EvidenceQuestion
from campaign.consultation.services import dao_latest_stances, tally
from campaign.downloads import csv_writer
from campaign.drafting.models import Campaign
from campaign.extensions import db


def summary_csv(campaign: Campaign) -> str:
    """One row per member school: stance (or "no answer"), reason, version answered,
    when, and its evidence answers."""
    stances = dao_latest_stances(campaign.id)
    questions = dao_questions(campaign.id)
    answers = dao_answers(campaign.id)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            "URN",
            "School",
            "Local authority",
            "Constituency",
            "Stance",
            "Reason",
            "Version",
            "Answered",
        ]
    )
    for school in dao_member_schools(campaign.association_id):
        stance = stances.get(school.id)
        writer.writerow(
            [
                school.urn,
                school.name,
                school.local_authority,
                school.constituency.name if school.constituency else "",
                stance.kind.value if stance else "no answer",
                stance.reason if stance else "",
                stance.version.number if stance else "",
                stance.created.isoformat(timespec="minutes") if stance else "",
                *(raw_value(q, answers.get((school.id, q.id))) for q in questions),
            ]
        )
    return out.getvalue()


def campaign_facts(campaign: Campaign) -> dict:
    """What `campaign campaigns show --json` prints: state, version and hash, tally, evidence."""
    version = campaign.current_version
    counts = tally(campaign)
    with_evidence = db.session.scalar(
        select(func.count(func.distinct(EvidenceAnswer.school_id)))
        .join(EvidenceQuestion)
        .where(EvidenceQuestion.campaign_id == campaign.id)
    )
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "state": campaign.state.value,
        "consultation_open": campaign.consultation_open(),
        "version": version.number if version else None,
        "version_sha256": version.sha256 if version else None,
        "tally": {**counts.counts, "no_answer": counts.no_answer},
        "questions": len(dao_questions(campaign.id)),
        "schools_with_evidence": with_evidence or 0,
    }

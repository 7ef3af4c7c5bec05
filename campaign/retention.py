"""`campaign retention`: personal data is kept no longer than RETENTION_DAYS.

Each feature removes its own (a `retention.py` beside its models); this module
decides what is due and composes them, in one transaction:

- sign-in links used or expired, made before the cut-off, are deleted (auth);
- parents' lists of a due campaign, and any uploaded before the cut-off, are deleted;
- a due campaign (closed or sent, nothing done in it since the cut-off) is
  anonymised: the text, the schools' decisions, the counts and the figures stay;
  the people's names, accounts, addresses and comments go (consultation,
  signoff, letters, delivery).

Running it again changes nothing more; with an association it touches only that
association's campaigns (and no sign-in links, which are a person's, not an
association's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from campaign.auth import retention as auth
from campaign.consultation import retention as consultation
from campaign.consultation.models import (
    Amendment,
    Comment,
    EvidenceAnswer,
    EvidenceQuestion,
    Reminder,
    Stance,
)
from campaign.delivery import retention as delivery
from campaign.delivery.models import DeliveryEvent, Message, ParentList
from campaign.drafting.models import Campaign, CampaignState, StatementVersion
from campaign.extensions import db
from campaign.letters import retention as letters
from campaign.letters.models import Letter
from campaign.signoff import retention as signoff
from campaign.signoff.models import AuditEvent, Signature

FINISHED = (CampaignState.CLOSED, CampaignState.SENT)

# Every time something happened in a campaign: (its campaign id, the time).
ACTIVITY = [
    (Campaign.id, Campaign.created),
    (StatementVersion.campaign_id, StatementVersion.created),
    (Stance.campaign_id, Stance.created),
    (Comment.campaign_id, Comment.created),
    (Amendment.campaign_id, Amendment.created),
    (Amendment.campaign_id, Amendment.decided),
    (Reminder.campaign_id, Reminder.created),
    (Signature.campaign_id, Signature.created),
    (Signature.campaign_id, Signature.withdrawn),
    (AuditEvent.campaign_id, AuditEvent.created),
    (Letter.campaign_id, Letter.rendered),
    (Message.campaign_id, Message.created),
    (Message.campaign_id, Message.updated),
    (Message.campaign_id, Message.sent),
    (ParentList.campaign_id, ParentList.uploaded),
]


@dataclass
class RetentionReport:
    """What a run removed (or, in a dry run, would remove), by kind."""

    before: datetime
    campaigns: list[str] = field(default_factory=list)  # "<association>/<campaign>"
    counts: dict[str, int] = field(default_factory=dict)
    # Letter PDFs to delete from the store once the run is committed.
    pdfs: set[str] = field(default_factory=set)


def dao_last_activity(campaign_ids: list[int]) -> dict[int, datetime]:
    """The time of the last thing done in each campaign."""
    last: dict[int, datetime] = {}
    sources = [
        select(campaign_id, func.max(at)).where(campaign_id.in_(campaign_ids)).group_by(campaign_id)
        for campaign_id, at in ACTIVITY
    ]
    sources.append(
        select(EvidenceQuestion.campaign_id, func.max(EvidenceAnswer.updated))
        .join(EvidenceQuestion, EvidenceQuestion.id == EvidenceAnswer.question_id)
        .where(EvidenceQuestion.campaign_id.in_(campaign_ids))
        .group_by(EvidenceQuestion.campaign_id)
    )
    sources.append(
        select(Message.campaign_id, func.max(DeliveryEvent.received))
        .join(Message, Message.id == DeliveryEvent.message_id)
        .where(Message.campaign_id.in_(campaign_ids))
        .group_by(Message.campaign_id)
    )
    for source in sources:
        for campaign_id, at in db.session.execute(source):
            if at is not None and (campaign_id not in last or at > last[campaign_id]):
                last[campaign_id] = at
    return last


def dao_due_campaigns(before: datetime, association_id: int | None = None) -> list[Campaign]:
    """Closed or sent campaigns in which nothing has happened since `before`."""
    stmt = select(Campaign).where(Campaign.state.in_(FINISHED)).order_by(Campaign.id)
    if association_id is not None:
        stmt = stmt.where(Campaign.association_id == association_id)
    finished = db.session.scalars(stmt).all()
    last = dao_last_activity([c.id for c in finished])
    return [c for c in finished if last[c.id] < before]


def apply_retention(days: int, association_id: int | None = None) -> RetentionReport:
    """Delete and anonymise what is older than `days` (see the module's docstring).
    The caller commits, or rolls back for a dry run."""
    before = datetime.now(UTC) - timedelta(days=days)
    due = dao_due_campaigns(before, association_id)
    ids = [c.id for c in due]
    report = RetentionReport(before, [f"{c.association.slug}/{c.slug}" for c in due])
    if association_id is None:
        report.counts["sign-in links deleted"] = auth.delete_old_sign_in_links(before)
    report.counts["parents' lists deleted"] = delivery.delete_parent_lists(
        ids, before, association_id
    )
    report.counts["signatures anonymised"] = signoff.anonymise_signatures(ids)
    report.counts["audit events anonymised"] = signoff.anonymise_audit_log(ids)
    report.counts["consultation entries anonymised"] = consultation.anonymise_consultation(ids)
    report.counts["letters anonymised"] = letters.anonymise_letters(ids, report.pdfs)
    if association_id is None:
        report.pdfs |= letters.unused_pdfs(before=time.time() - 24 * 3600)
    report.counts["letter PDFs deleted"] = len(report.pdfs)
    report.counts["messages anonymised"] = delivery.anonymise_outbox(ids)
    report.counts["delivery events anonymised"] = delivery.anonymise_delivery_events(ids)
    return report

"""Reminders by hand: each press is recorded, and a second reminder to the same heads
within REMINDER_INTERVAL needs the lead to confirm it. Sign-off's chasers use the
same rule (signoff.services.check_chase), recording theirs in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from campaign.consultation.models import Reminder
from campaign.consultation.services import ConsultationError
from campaign.directory.models import User
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.formatting import plural, when_relative

# A second reminder to the same selection sooner than this asks "Send another?".
REMINDER_INTERVAL = timedelta(hours=24)


@dataclass
class LastReminder:
    """A reminder that went: when, to how many heads, and to which selection."""

    sent: datetime
    heads: int
    la: str = ""
    constituency: str = ""

    def is_recent(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) - self.sent < REMINDER_INTERVAL


def recent(last: LastReminder | None) -> LastReminder | None:
    """The reminder if it went within REMINDER_INTERVAL (a second needs confirming)."""
    return last if last and last.is_recent() else None


class ReminderSentRecently(ConsultationError):
    """A reminder went to the same heads within REMINDER_INTERVAL: confirm to send another."""

    def __init__(self, last: LastReminder):
        self.last = last
        super().__init__(warning(last))


def warning(last: LastReminder) -> str:
    """ "A reminder went to 79 heads at 10:02am today. Send another?" """
    heads = plural(last.heads, "head")
    return f"A reminder went to {heads} {when_relative(last.sent)}. Send another?"


def _last(row: Reminder | None) -> LastReminder | None:
    return row and LastReminder(row.created, row.heads, row.la, row.constituency)


def dao_last_reminder(
    campaign_id: int, *, la: str | None = None, constituency: str | None = None
) -> LastReminder | None:
    """The campaign's latest reminder; to this selection only, if one is given."""
    query = select(Reminder).where(Reminder.campaign_id == campaign_id)
    if la is not None or constituency is not None:
        query = query.where(
            Reminder.la == (la or ""), Reminder.constituency == (constituency or "")
        )
    return _last(db.session.scalar(query.order_by(Reminder.id.desc()).limit(1)))


def record_reminder(
    campaign: Campaign,
    by: User | None,
    *,
    batch: str,
    heads: int,
    la: str = "",
    constituency: str = "",
    confirm: bool = False,
) -> bool:
    """Record one press of "Send a reminder"; False if this press was recorded already.
    Raises ReminderSentRecently for a second reminder to the same selection within
    REMINDER_INTERVAL unless `confirm`. The caller commits."""
    if db.session.scalar(select(Reminder.id).where(Reminder.batch == batch)):
        return False
    last = dao_last_reminder(campaign.id, la=la, constituency=constituency)
    if last and last.is_recent() and not confirm:
        raise ReminderSentRecently(last)
    db.session.add(
        Reminder(
            campaign_id=campaign.id,
            by_id=by.id if by else None,
            batch=batch,
            la=la,
            constituency=constituency,
            heads=heads,
        )
    )
    return True

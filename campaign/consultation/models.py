"""What the member heads say during a consultation: stances, comments,
amendments and evidence, each tied to the statement version they saw."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.directory.models import School, User
from campaign.drafting.models import StatementVersion
from campaign.extensions import db
from campaign.types import UtcDateTime, text_enum


class ConsultationError(Exception):
    """A consultation action that cannot be done; the message says why."""


class StanceKind(enum.StrEnum):
    AGREE = "agree"
    ABSTAIN = "abstain"
    DISAGREE = "disagree"
    BLOCK = "block"

    @property
    def needs_reason(self) -> bool:
        return self in (StanceKind.DISAGREE, StanceKind.BLOCK)


class Stance(db.Model):
    """A school's position on the statement. Each change is a new row: the
    latest is the school's stance, the rest its history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version_id: Mapped[int] = mapped_column(ForeignKey("statement_version.id", ondelete="CASCADE"))
    kind: Mapped[StanceKind] = mapped_column(text_enum(StanceKind))
    reason: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    school: Mapped[School] = relationship()
    user: Mapped[User | None] = relationship()
    version: Mapped[StatementVersion] = relationship()

    __table_args__ = (
        CheckConstraint(
            "kind NOT IN ('disagree', 'block') OR length(reason) > 0", name="reason_given"
        ),
        db.Index("ix_stance_campaign_school", "campaign_id", "school_id", "id"),
    )


class Comment(db.Model):
    """A head's comment on one paragraph of one version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("statement_version.id", ondelete="CASCADE"))
    paragraph: Mapped[int]  # 1-based, in that version
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    user: Mapped[User | None] = relationship()
    version: Mapped[StatementVersion] = relationship()

    __table_args__ = (CheckConstraint("paragraph > 0", name="paragraph_positive"),)


class AmendmentState(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Amendment(db.Model):
    """Replacement text a head proposes for one paragraph; the lead decides."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("statement_version.id", ondelete="CASCADE"))
    paragraph: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[AmendmentState] = mapped_column(
        text_enum(AmendmentState), default=AmendmentState.PROPOSED
    )
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The version that accepting this amendment created.
    result_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement_version.id", ondelete="SET NULL")
    )
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    version: Mapped[StatementVersion] = relationship(foreign_keys=[version_id])
    result_version: Mapped[StatementVersion | None] = relationship(foreign_keys=[result_version_id])

    __table_args__ = (CheckConstraint("paragraph > 0", name="paragraph_positive"),)

    def require_proposed(self) -> None:
        """Raise ConsultationError if the lead has already decided this amendment."""
        if self.state is not AmendmentState.PROPOSED:
            raise ConsultationError(f"This amendment was already {self.state.value}.")

    def accept(self, version: StatementVersion, *, note: str, by: User) -> None:
        """Accepted: `version` is the statement with the paragraph replaced."""
        self._decide(AmendmentState.ACCEPTED, note, by)
        self.result_version = version

    def reject(self, *, note: str, by: User) -> None:
        self._decide(AmendmentState.REJECTED, note, by)

    def _decide(self, state: AmendmentState, note: str, by: User) -> None:
        self.require_proposed()
        self.decision_note = note.strip()
        self.decided_by_id = by.id
        self.decided = datetime.now(UTC)
        self.state = state


class QuestionKind(enum.StrEnum):
    NUMBER = "number"
    MONEY = "money"
    YES_NO = "yes_no"
    TEXT = "text"

    @property
    def label(self) -> str:
        return {
            "number": "A number",
            "money": "An amount in pounds",
            "yes_no": "Yes or no",
            "text": "Short text",
        }[self.value]


class EvidenceQuestion(db.Model):
    """A figure or fact the lead asks every school for."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(text_enum(QuestionKind))
    prompt: Mapped[str] = mapped_column(String(300))
    help: Mapped[str] = mapped_column(String(500), default="")
    required: Mapped[bool] = mapped_column(default=False)


class EvidenceAnswer(db.Model):
    """One school's answer to one question; edited in place until the deadline."""

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("evidence_question.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Numbers and money (whole pounds) here; yes/no and text in text_value.
    number_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    text_value: Mapped[str] = mapped_column(String(500), default="")
    updated: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    question: Mapped[EvidenceQuestion] = relationship()

    __table_args__ = (UniqueConstraint("question_id", "school_id"),)


class Notice(db.Model):
    """An email sent once: the unique key guards against sending it twice
    (a retried task, a double click on "Send reminders")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    sent: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class Reminder(db.Model):
    """One press of "Send a reminder" during a consultation: when, by whom, to the heads
    of which unanswered schools (an LA or constituency, or all) and to how many. Read
    to warn before the same heads are reminded twice in a day."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The press (services.new_batch): the same form posted twice is one reminder.
    batch: Mapped[str] = mapped_column(String(50), unique=True)
    la: Mapped[str] = mapped_column(String(100), default="")  # "" is every LA
    constituency: Mapped[str] = mapped_column(String(9), default="")  # an ONS code, or ""
    heads: Mapped[int]
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    __table_args__ = (CheckConstraint("heads >= 0", name="heads_not_negative"),)

"""Campaigns and the versions of their joint statement."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.directory.models import Association, User
from campaign.extensions import db
from campaign.types import UtcDateTime, text_enum


class CampaignState(enum.StrEnum):
    DRAFT = "draft"
    CONSULTATION = "consultation"
    SIGNOFF = "signoff"
    CLOSED = "closed"
    SENT = "sent"

    @property
    def label(self) -> str:
        return {"signoff": "Sign-off"}.get(self.value, self.value.capitalize())


# Where a campaign may go from each state. Back to draft from consultation starts
# a new drafting round; back to consultation from sign-off voids signatures.
TRANSITIONS = {
    CampaignState.DRAFT: {CampaignState.CONSULTATION},
    CampaignState.CONSULTATION: {CampaignState.DRAFT, CampaignState.SIGNOFF},
    CampaignState.SIGNOFF: {CampaignState.CONSULTATION, CampaignState.CLOSED},
    CampaignState.CLOSED: {CampaignState.SENT},
    CampaignState.SENT: set(),
}


class IllegalTransition(Exception):
    """A campaign was asked to move to a state it cannot reach from where it is."""


class Campaign(db.Model):
    """One joint position statement and its journey from draft to sent letters."""

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("association.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    to_parents: Mapped[bool] = mapped_column(default=True)
    to_mps: Mapped[bool] = mapped_column(default=True)
    consultation_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signoff_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[CampaignState] = mapped_column(
        text_enum(CampaignState), default=CampaignState.DRAFT
    )
    # Set when the lead closes the consultation early; answers stop either way
    # at the deadline.
    consultation_closed: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The version heads sign in sign-off; set when the lead freezes the text.
    frozen_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement_version.id", use_alter=True, ondelete="SET NULL")
    )
    # Days before the sign-off deadline on which unanswered schools are reminded.
    reminder_days: Mapped[str] = mapped_column(String(50), default="7,3,1", server_default="7,3,1")
    # Whether the signatories are listed on a public page once sign-off closes.
    public_page: Mapped[bool] = mapped_column(default=False, server_default=false())
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    association: Mapped[Association] = relationship()
    versions: Mapped[list[StatementVersion]] = relationship(
        back_populates="campaign",
        order_by="StatementVersion.number",
        foreign_keys="StatementVersion.campaign_id",
    )
    frozen_version: Mapped[StatementVersion | None] = relationship(
        foreign_keys=[frozen_version_id], post_update=True
    )

    __table_args__ = (
        UniqueConstraint("association_id", "slug"),
        CheckConstraint("to_parents OR to_mps", name="has_an_audience"),
    )

    @property
    def current_version(self) -> StatementVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def audiences(self) -> list[str]:
        return [
            name for name, wanted in (("parents", self.to_parents), ("MPs", self.to_mps)) if wanted
        ]

    def move_to(self, state: CampaignState) -> None:
        """Change state, or raise IllegalTransition with a message a person can act on."""
        if state not in TRANSITIONS[self.state]:
            raise IllegalTransition(
                f"A campaign in {self.state.label.lower()} cannot move to {state.label.lower()}."
            )
        self.state = state

    @property
    def reminder_schedule(self) -> list[int]:
        return sorted(
            {int(d) for d in self.reminder_days.split(",") if d.strip().isdigit()}, reverse=True
        )

    def signoff_open(self, now: datetime | None = None) -> bool:
        """Whether heads can still sign, decline or withdraw."""
        now = now or datetime.now(UTC)
        return self.state is CampaignState.SIGNOFF and (
            self.signoff_deadline is None or now < self.signoff_deadline
        )

    def consultation_open(self, now: datetime | None = None) -> bool:
        """Whether heads can still give stances, comments, amendments and evidence."""
        now = now or datetime.now(UTC)
        return (
            self.state is CampaignState.CONSULTATION
            and self.consultation_closed is None
            and (self.consultation_deadline is None or now < self.consultation_deadline)
        )


class StatementVersion(db.Model):
    """An immutable text of the statement. A changed save makes a new one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    # SHA-256 of the normalised body, hex: what a signature binds to.
    sha256: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    campaign: Mapped[Campaign] = relationship(back_populates="versions", foreign_keys=[campaign_id])
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
    )

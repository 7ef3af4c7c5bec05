"""Sign-off: each school's signature on the frozen text, and the campaign's audit log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.directory.models import School, User
from campaign.extensions import db
from campaign.types import UtcDateTime, text_enum


class Decision(enum.StrEnum):
    SIGNED = "signed"
    DECLINED = "declined"


class Signature(db.Model):
    """A school's answer to the frozen statement, bound to that text's SHA-256.

    One per school and campaign, enforced by the database: a second submit
    changes nothing. Withdrawing keeps the row with its withdrawal time; a
    reopened consultation deletes the round's signatures (the audit log keeps them).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decision: Mapped[Decision] = mapped_column(text_enum(Decision))
    # As it should appear on the letter.
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    version_sha256: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request's IP address and user agent: evidence, not identity.
    client_hash: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    withdrawn: Mapped[datetime | None] = mapped_column(UtcDateTime)

    school: Mapped[School] = relationship()
    user: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("campaign_id", "school_id"),
        CheckConstraint("length(version_sha256) = 64", name="sha256_hex"),
        CheckConstraint("length(name) > 0", name="name_given"),
    )

    @property
    def counts(self) -> bool:
        """A signature that stands: signed and not withdrawn."""
        return self.decision is Decision.SIGNED and self.withdrawn is None


class AuditEvent(db.Model):
    """Append-only: who did what in a campaign, and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    actor: Mapped[User | None] = relationship()

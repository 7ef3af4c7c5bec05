"""Single-use sign-in links."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.directory.models import User
from campaign.extensions import db
from campaign.types import UtcDateTime


class LoginToken(db.Model):
    """An emailed sign-in link. Only the SHA-256 of the secret is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32), default="sign-in")
    # Where to go after signing in (a path inside this app), e.g. a consultation.
    next_path: Mapped[str] = mapped_column(String(500), default="")
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    expires: Mapped[datetime] = mapped_column(UtcDateTime)
    used: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()

    def usable(self, now: datetime | None = None) -> bool:
        return self.used is None and (now or datetime.now(UTC)) < self.expires

"""Who the association is: its members, their schools, and the MPs who represent them."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.extensions import db
from campaign.types import UtcDateTime, text_enum


class Role(enum.StrEnum):
    LEAD = "lead"  # drafts, chases, sends
    HEAD = "head"  # answers and signs for the schools they lead
    VIEWER = "viewer"  # reads the register and progress, changes nothing


class Association(db.Model):
    """A body of schools that speaks with one voice; every page is scoped to one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Letterhead: the postal address (one line per line) and a contact email.
    address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # Letterhead logo (PNG or SVG, validated on upload) and its media type; none if empty.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # One accent colour for the letterhead rule and headings, as #rrggbb.
    accent: Mapped[str] = mapped_column(String(7), default="#1d3557", server_default="#1d3557")
    # Above this many signatories, a parent letter lists only its own LA's schools.
    cosignatory_limit: Mapped[int] = mapped_column(default=150, server_default="150")
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    memberships: Mapped[list[Membership]] = relationship(back_populates="association")

    __table_args__ = (
        CheckConstraint("slug <> ''", name="slug_not_empty"),
        CheckConstraint("cosignatory_limit > 0", name="cosignatory_limit_positive"),
    )


class User(UserMixin, db.Model):
    """A person who signs in by emailed link. Email is stored lower-cased."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # The person's role as letters show it under their name ("Chair", "Headteacher").
    job_title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # When the person last saved their own name and job title (Your details).
    # From then on no roster changes their name: see roster.py.
    details_saved: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    # Stored in the session at sign-in and checked on every request: signing out
    # adds one, so every session of this person, copied cookies too, stops working.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower"),)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def greeting(self) -> str:
        """How an email to this person opens."""
        return f"Dear {self.name}," if self.name else "Hello,"


class Membership(db.Model):
    """A user's role in one association."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    association_id: Mapped[int] = mapped_column(
        ForeignKey("association.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(text_enum(Role))

    user: Mapped[User] = relationship(back_populates="memberships")
    association: Mapped[Association] = relationship(back_populates="memberships")

    __table_args__ = (UniqueConstraint("user_id", "association_id"),)


class Constituency(db.Model):
    """A Westminster constituency (2024 boundaries), keyed by its ONS code."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ons_code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(50), default="")

    mp: Mapped[Mp | None] = relationship(back_populates="constituency", uselist=False)


class Mp(db.Model):
    """The member of Parliament for a constituency: one per seat."""

    id: Mapped[int] = mapped_column(primary_key=True)
    constituency_id: Mapped[int] = mapped_column(
        ForeignKey("constituency.id", ondelete="CASCADE"), unique=True
    )
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    # Parliament's correspondence name ("Dame Priti Patel MP") once refreshed.
    display_as: Mapped[str] = mapped_column(String(200), default="")
    party: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    postal_address: Mapped[str] = mapped_column(String(500), default="")
    # Id in Parliament's Members API; filled in by `campaign mps refresh`.
    parliament_id: Mapped[int | None] = mapped_column(Integer)

    constituency: Mapped[Constituency] = relationship(back_populates="mp")

    @property
    def name(self) -> str:
        return self.display_as or f"{self.first_name} {self.last_name}".strip()


class School(db.Model):
    """An association's own copy of a school's facts from the DfE register (GIAS).

    Each association holds its own row for each member school, keyed by
    (association, URN): the association's register import writes only its own
    rows, so nothing one association uploads changes what another sees or sends.
    A school in two associations is two rows with the same URN.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique (association, URN) constraint below.
    association_id: Mapped[int] = mapped_column(ForeignKey("association.id", ondelete="CASCADE"))
    urn: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100), default="")
    phase: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(50), default="")
    local_authority: Mapped[str] = mapped_column(String(100), default="", index=True)
    street: Mapped[str] = mapped_column(String(200), default="")
    locality: Mapped[str] = mapped_column(String(200), default="")
    address3: Mapped[str] = mapped_column(String(200), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    county: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    pupils: Mapped[int | None] = mapped_column(Integer)
    head_title: Mapped[str] = mapped_column(String(50), default="")
    head_first_name: Mapped[str] = mapped_column(String(100), default="")
    head_last_name: Mapped[str] = mapped_column(String(100), default="")
    head_job_title: Mapped[str] = mapped_column(String(100), default="")
    # The ONS code as the register gives it; the link below is set only when known.
    constituency_code: Mapped[str] = mapped_column(String(9), default="", index=True)
    constituency_name: Mapped[str] = mapped_column(String(200), default="")
    constituency_id: Mapped[int | None] = mapped_column(
        ForeignKey("constituency.id", ondelete="SET NULL"), index=True
    )

    association: Mapped[Association] = relationship()
    constituency: Mapped[Constituency | None] = relationship()
    headships: Mapped[list[Headship]] = relationship(back_populates="school")

    __table_args__ = (
        UniqueConstraint("association_id", "urn"),
        CheckConstraint("urn > 0", name="urn_positive"),
    )

    @property
    def address_lines(self) -> list[str]:
        parts = [self.street, self.locality, self.address3, self.town, self.county, self.postcode]
        return [p for p in parts if p]

    @property
    def register_head(self) -> str:
        return " ".join(
            p for p in (self.head_title, self.head_first_name, self.head_last_name) if p
        )


class Headship(db.Model):
    """A person leads a school, as the association's own roster says.

    Kept per association: one association's roster never changes another's.
    A head may lead several schools; a school may have co-heads.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("association.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    # "Headteacher", "Principal", "Executive Headteacher": the role as it will be signed.
    job_title: Mapped[str] = mapped_column(String(100), default="")

    user: Mapped[User] = relationship()
    school: Mapped[School] = relationship(back_populates="headships")

    __table_args__ = (UniqueConstraint("association_id", "user_id", "school_id"),)


class ImportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    REFUSED = "refused"  # the file as a whole was not of the expected kind
    FAILED = "failed"  # something broke; nothing was written


FINISHED = {ImportState.DONE, ImportState.REFUSED, ImportState.FAILED}


class ImportJob(db.Model):
    """An uploaded register or roster, imported in the background.

    The upload is kept in the row (not on one machine's disk) until the import
    finishes, so any worker can run it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("association.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # "register" or "roster"
    filename: Mapped[str] = mapped_column(String(255), default="")
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    data: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    # A cheap estimate of the data rows, for the progress bar.
    rows_expected: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[ImportState] = mapped_column(
        text_enum(ImportState),
        default=ImportState.QUEUED,
    )
    summary: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(String(2000), default="")
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    finished: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (CheckConstraint("kind IN ('register', 'roster')", name="kind_known"),)

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED

    def start(self) -> None:
        if self.state is not ImportState.QUEUED:
            raise ValueError(f"An import that is {self.state} cannot start.")
        self.state = ImportState.RUNNING

    def finish(self, state: ImportState, *, summary: dict | None = None, error: str = "") -> None:
        """Record the outcome once; a finished import is never overwritten."""
        if self.is_finished:
            raise ValueError(f"This import has already finished ({self.state}).")
        self.state, self.summary, self.error = state, summary, error
        self.data = b""
        self.finished = datetime.now(UTC)

"""Rendered letters: one per signing school (to parents) and one per constituency (to its MP)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.store import letter_store
from campaign.types import UtcDateTime, text_enum


class Audience(enum.StrEnum):
    PARENTS = "parents"
    MPS = "mps"

    def wanted_by(self, campaign: Campaign) -> bool:
        """Whether the campaign writes to this audience."""
        return campaign.to_mps if self is Audience.MPS else campaign.to_parents


class RecipientKind(enum.StrEnum):
    """Who a letter or message is for, as the prefix of its recipient key."""

    MP = "constituency"  # "constituency:<ONS code>"
    SCHOOL = "school"  # "school:<URN>"
    PARENT = "parent"  # "parent:<URN>:<hash of address>"

    def key(self, *parts: object) -> str:
        """The recipient key: RecipientKind.SCHOOL.key(900026) is "school:900026"."""
        return ":".join([self.value, *(str(part) for part in parts)])


def parse_recipient(recipient: str) -> tuple[RecipientKind, str]:
    """A recipient key's kind and the rest of it ("school:900026" → SCHOOL, "900026").
    The one place a key is read."""
    prefix, _, rest = recipient.partition(":")
    return RecipientKind(prefix), rest


def recipient_kind(recipient: str) -> RecipientKind:
    return parse_recipient(recipient)[0]


class Letter(db.Model):
    """A letter as rendered, with the merge data it was rendered from.

    `recipient` is "school:<URN>" or "constituency:<ONS code>" (see RecipientKind); re-rendering
    skips a letter whose merge data (and so its hash) has not changed. The PDF itself
    is in the letter store (store.py) under `sha256`.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    audience: Mapped[Audience] = mapped_column(text_enum(Audience))
    recipient: Mapped[str] = mapped_column(String(40))
    # Who it is for, as a person reads it ("Saxon High School", "Richard Holden MP").
    recipient_name: Mapped[str] = mapped_column(String(300))
    merge: Mapped[dict] = mapped_column(JSON)
    merge_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))  # the PDF's key in the letter store
    rendered: Mapped[datetime] = mapped_column(UtcDateTime)
    # What the mail-house check found wrong with the PDF (see checks.py): [] when it
    # passes, None until checked. A letter with problems is neither sent nor packed.
    problems: Mapped[list | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("campaign_id", "audience", "recipient"),)

    @property
    def pdf(self) -> bytes:
        """The PDF, read from the letter store."""
        return letter_store().get(self.sha256)

    @pdf.setter
    def pdf(self, pdf: bytes) -> None:
        self.sha256 = letter_store().put(pdf)

    @property
    def kind(self) -> RecipientKind:
        """A school (the letter to its parents) or an MP."""
        return recipient_kind(self.recipient)

    @property
    def recipient_code(self) -> str:
        """The school's URN or the constituency's ONS code, as in the key."""
        return parse_recipient(self.recipient)[1]


class LockedLetters(db.Model):
    """An audience's letters once they are in the outbox: written by delivery when it
    builds the outbox, so letters can refuse to change without asking delivery."""

    __tablename__ = "locked_letters"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    audience: Mapped[Audience] = mapped_column(text_enum(Audience), primary_key=True)
    locked: Mapped[datetime] = mapped_column(UtcDateTime)


class RenderRun(db.Model):
    """One press of Render for an audience. Its plan (one task) writes the letters
    that changed as chunks (RenderChunk), which any number of workers take; its
    progress is summed from them (see runs.py). A new press replaces the run."""

    __tablename__ = "render_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    audience: Mapped[Audience] = mapped_column(text_enum(Audience))
    queued: Mapped[datetime] = mapped_column(UtcDateTime)
    started: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when the plan began
    planned: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when its chunks were written
    total: Mapped[int] = mapped_column(default=0)  # letters the audience should have
    unchanged: Mapped[int] = mapped_column(default=0)  # of them, already rendered as they are
    failing_unchanged: Mapped[int] = mapped_column(default=0)  # of those, failing the check
    error: Mapped[str] = mapped_column(Text, default="")


class ChunkState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # claimed by a worker, whose lease runs to `lease_until`
    DONE = "done"  # its letters are saved


class RenderChunk(db.Model):
    """Letters of a run to render together: [recipient, merge data, merge hash] each."""

    __tablename__ = "render_chunk"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("render_run.id", ondelete="CASCADE"), index=True)
    items: Mapped[list] = mapped_column(JSON, deferred=True)
    size: Mapped[int]
    state: Mapped[ChunkState] = mapped_column(text_enum(ChunkState), default=ChunkState.QUEUED)
    token: Mapped[str] = mapped_column(String(32), default="")  # the claiming worker's
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    touched: Mapped[datetime | None] = mapped_column(UtcDateTime)  # claimed, extended or done
    failing: Mapped[int] = mapped_column(default=0)  # its letters failing the check, once done


class PackKind(enum.StrEnum):
    """Which of an audience's letters a print pack holds."""

    LETTERS = "letters"  # every letter: the letters page's print pack
    POST = "post"  # those whose message goes by post: the sending page's post pack


class PackState(enum.StrEnum):
    QUEUED = "queued"  # asked for, waiting for a worker
    BUILDING = "building"  # a worker is packing: `done` of `total` letters
    READY = "ready"  # in the letter store under `key`, its manifest under `manifest_key`
    FAILED = "failed"  # `error` says why (the failing letters, named)


class PrintPack(db.Model):
    """A print pack and its manifest, built by a worker into the letter store (packs.py).

    One per campaign, audience and kind: building it again replaces it. `sources` is
    the digest of the letters it was made from (their ids and PDFs' keys, in order):
    once they are rendered again, the pack no longer matches them and is out of date.
    """

    __tablename__ = "print_pack"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    audience: Mapped[Audience] = mapped_column(text_enum(Audience))
    kind: Mapped[PackKind] = mapped_column(text_enum(PackKind))
    state: Mapped[PackState] = mapped_column(text_enum(PackState))
    # The build asked for last: a worker's every write carries it, so a worker that
    # was replaced (the lead built again) changes nothing.
    token: Mapped[str] = mapped_column(String(32))
    letter_ids: Mapped[list] = mapped_column(JSON, deferred=True)  # asked for, in pack order
    total: Mapped[int] = mapped_column(default=0)  # letters asked for
    done: Mapped[int] = mapped_column(default=0)  # of them, packed so far
    requested: Mapped[datetime] = mapped_column(UtcDateTime)
    updated: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the worker's last word
    sources: Mapped[str] = mapped_column(String(64), default="")
    key: Mapped[str] = mapped_column(String(64), default="")
    manifest_key: Mapped[str] = mapped_column(String(64), default="")
    letters: Mapped[int] = mapped_column(default=0)  # in the pack, once ready
    pages: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("campaign_id", "audience", "kind"),
        CheckConstraint(
            "state != 'ready' OR (key != '' AND manifest_key != '' AND sources != '')",
            name="ready_is_stored",
        ),
    )

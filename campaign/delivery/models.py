"""The outbox: one Message per (campaign, audience, recipient, channel), the
delivery events SendGrid reports for it, suppressed addresses, and the parents'
lists schools upload for one send."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Update,
    false,
    func,
    literal,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.directory.models import School
from campaign.extensions import db
from campaign.letters.models import Audience, Letter, RecipientKind, recipient_kind
from campaign.types import UtcDateTime, text_enum


class Channel(enum.StrEnum):
    EMAIL = "email"
    POST = "post"  # printed from the print pack and posted by the association


class MessageState(enum.StrEnum):
    CREATED = "created"  # saved, not yet handed over (or waiting to try again)
    SENDING = "sending"  # claimed by a worker, handed over or about to be
    SENT = "sent"  # the provider accepted it (202), or posted
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    DROPPED = "dropped"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in FINISHED

    @property
    def rank(self) -> int:
        """How far along: events only ever move a message forward. Every finished
        state ranks after every state still in flight."""
        return len(ORDER) if self.finished else ORDER.index(self)


FINISHED = {
    MessageState.DELIVERED,
    MessageState.BOUNCED,
    MessageState.DROPPED,
    MessageState.FAILED,
}
# The states in flight, in the order a message passes through them.
ORDER = [MessageState.CREATED, MessageState.SENDING, MessageState.SENT]

# Where a message may go from each state. Back to created from sending is a retry
# (or the lead's decision about a message in doubt); from failed, the lead's "Try
# again". An event may move a message on from any state before the one it reports,
# so a late or early event never moves it back. Only the sender fails a message;
# delivered, bounced and dropped are never left.
TRANSITIONS: dict[MessageState, set[MessageState]] = {
    MessageState.CREATED: {
        MessageState.SENDING,
        MessageState.SENT,
        MessageState.DELIVERED,
        MessageState.BOUNCED,
        MessageState.DROPPED,
    },
    MessageState.SENDING: {
        MessageState.CREATED,
        MessageState.SENT,
        MessageState.DELIVERED,
        MessageState.BOUNCED,
        MessageState.DROPPED,
        MessageState.FAILED,
    },
    MessageState.SENT: {MessageState.DELIVERED, MessageState.BOUNCED, MessageState.DROPPED},
    MessageState.DELIVERED: set(),
    MessageState.BOUNCED: set(),
    MessageState.DROPPED: set(),
    MessageState.FAILED: {MessageState.CREATED},
}


def sources(target: MessageState) -> list[MessageState]:
    """The states a message may move to `target` from, in a fixed order."""
    return [state for state in MessageState if target in TRANSITIONS[state]]


def email_hash(address: str) -> str:
    """How a suppressed address is kept: SHA-256 of the trimmed, lower-cased address."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


class Message(db.Model):
    """One letter to one recipient by one channel; sent once, whatever happens.

    The idempotency key is unique in the database, so creating the outbox twice,
    a crash or a second click never makes a second message. A worker sends only
    a message it moved from `created` to `sending` itself; a finished state is
    never overwritten.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    audience: Mapped[Audience] = mapped_column(text_enum(Audience))
    channel: Mapped[Channel] = mapped_column(text_enum(Channel))
    # "constituency:<ONS code>", "school:<URN>" or "parent:<URN>:<hash of address>":
    # made by RecipientKind.key, read by `kind`.
    recipient: Mapped[str] = mapped_column(String(120))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("letter.id", ondelete="SET NULL"), index=True
    )
    # Who it is for, as a person reads it, and where it goes. A parent's address
    # is erased once the message is finished with.
    to_name: Mapped[str] = mapped_column(String(300), default="")
    to_address: Mapped[str] = mapped_column(String(320), default="")
    # Why a message went to post instead of email ("no email address on record").
    note: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[MessageState] = mapped_column(
        text_enum(MessageState), default=MessageState.CREATED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # Sent in a request of its own (a request it shared was refused as a whole).
    alone: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Not before this time (backoff after a retryable failure).
    next_attempt: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provider_id: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    sent: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    letter: Mapped[Letter | None] = relationship()

    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_message_campaign_state", "campaign_id", "audience", "state"),
    )

    @property
    def kind(self) -> RecipientKind:
        """An MP, a school's head or a parent."""
        return recipient_kind(self.recipient)

    @classmethod
    def guarded_update(
        cls,
        *where: ColumnElement[bool],
        to: MessageState | None,
        only_from: Collection[MessageState] | None = None,
        **values,
    ) -> Update:
        """UPDATE message SET state = `to`, `values`, updated WHERE `where` AND state IN
        (the states TRANSITIONS lets move to `to`, narrowed to `only_from` if given).

        With `to` None the state stays: `values` are written only to messages still
        in one of `only_from`. The IN list is bound value by value, so the statement
        can also be executed with many sets of parameters."""
        if to is None:
            if not only_from:
                raise ValueError("An update that keeps the state needs the states it is for.")
            allowed = [state for state in MessageState if state in only_from]
        else:
            allowed = sources(to)
            if only_from is not None:
                if stray := set(only_from) - set(allowed):
                    raise ValueError(
                        f"A message cannot move to {to} from {', '.join(sorted(stray))}."
                    )
                allowed = [state for state in allowed if state in only_from]
            values["state"] = to
        values.setdefault("updated", datetime.now(UTC))
        guard = cls.state.in_([literal(state, cls.state.type) for state in allowed])
        return update(cls).where(*where, guard).values(**values)

    @classmethod
    def move(
        cls,
        *where: ColumnElement[bool],
        to: MessageState | None,
        only_from: Collection[MessageState] | None = None,
        **values,
    ) -> int:
        """Move the messages `where` selects to `to`, those the table allows (see
        `guarded_update`); returns how many moved. The caller commits."""
        result = db.session.execute(
            cls.guarded_update(*where, to=to, only_from=only_from, **values),
            execution_options={"synchronize_session": False},
        )
        return result.rowcount or 0


class DeliveryEvent(db.Model):
    """What SendGrid reported about a message, kept as it came (deduplicated by its id)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    # SendGrid's sg_event_id: a replayed event is recognised and ignored.
    provider_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    occurred: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict] = mapped_column(JSON)
    received: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class Suppression(db.Model):
    """An address that must not be mailed again (unsubscribed, bounced, marked as spam).

    Only the SHA-256 of the address is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class ParentList(db.Model):
    """A school's parents' email addresses for one campaign's send.

    The addresses are kept only until the send has taken them into the outbox
    and finished; then they are deleted and only the count stays."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    emails: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    count: Mapped[int] = mapped_column(default=0)
    uploaded: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    # When the addresses were deleted (after the send).
    erased: Mapped[datetime | None] = mapped_column(UtcDateTime)

    school: Mapped[School] = relationship()

    __table_args__ = (UniqueConstraint("campaign_id", "school_id"),)

"""Making a campaign's outbox: one Message per recipient and channel, from the
rendered letters. Making it again creates nothing new (the database refuses a
second idempotency key), so a double click or a rerun is harmless."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from campaign.delivery import glance
from campaign.delivery.models import (
    Channel,
    Message,
    MessageState,
    ParentList,
    Suppression,
    email_hash,
)
from campaign.directory.models import School, User
from campaign.drafting.models import Campaign, CampaignState
from campaign.extensions import db
from campaign.letters.models import (
    Audience,
    Letter,
    RecipientKind,
    parse_recipient,
    recipient_kind,
)
from campaign.letters.outputs import require_checked
from campaign.letters.services import LettersError, failing_message, lock_letters
from campaign.signoff.models import Decision, Signature


class DeliveryError(Exception):
    """The messages cannot be made or sent yet; the message says why."""


class NoLetters(DeliveryError):
    """No letter of the audience is rendered yet."""


NO_MP_EMAIL = "No email address on record for this MP: in the print pack for the post."
NO_HEAD_EMAIL = "No email address for the school's signing head: in the print pack."


def idempotency_key(campaign_id: int, audience: Audience, recipient: str, channel: Channel) -> str:
    return f"{campaign_id}:{audience.value}:{recipient}:{channel.value}"


def insert_new(model, rows: list[dict], key: str) -> int:
    """Insert rows, skipping any whose unique `key` is already taken; return how many
    were added. ON CONFLICT DO NOTHING, so two callers at once cannot both add one."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    statement = builder(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c.id)
    connection = db.session.connection()
    added = 0
    for start in range(0, len(rows), 1000):
        added += len(connection.execute(statement, rows[start : start + 1000]).all())
    return added


@dataclass
class Planned:
    """What the outbox of one audience holds (or would hold, for a dry run)."""

    rows: list[dict] = field(default_factory=list)
    suppressed: int = 0
    # The parents' lists read, whose addresses the outbox takes over.
    parent_list_ids: list[int] = field(default_factory=list)

    def counts(self, leaving_out: set[str] | None = None) -> dict[str, int]:
        """Emails, letters by post and parents among them (leaving out these keys)."""
        rows = [r for r in self.rows if r["idempotency_key"] not in (leaving_out or set())]
        by_channel = Counter(row["channel"].value for row in rows)
        parents = sum(1 for row in rows if recipient_kind(row["recipient"]) is RecipientKind.PARENT)
        return {"email": by_channel["email"], "post": by_channel["post"], "parents": parents}


def _signing_heads(campaign_id: int) -> dict[int, tuple[str, str]]:
    """URN → (email, name) of the head who signed for the school."""
    rows = db.session.execute(
        select(School.urn, User.email, User.name)
        .join(Signature, Signature.school_id == School.id)
        .join(User, User.id == Signature.user_id)
        .where(
            Signature.campaign_id == campaign_id,
            Signature.decision == Decision.SIGNED,
            Signature.withdrawn.is_(None),
        )
    )
    return {urn: (email, name) for urn, email, name in rows}


def _parent_lists(campaign_id: int) -> dict[int, ParentList]:
    rows = db.session.execute(
        select(School.urn, ParentList)
        .join(School, School.id == ParentList.school_id)
        .where(ParentList.campaign_id == campaign_id, ParentList.emails.is_not(None))
    )
    return {urn: parent_list for urn, parent_list in rows}


def dao_suppressed(hashes: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(hashes), 1000):
        found.update(
            db.session.scalars(
                select(Suppression.email_sha256).where(
                    Suppression.email_sha256.in_(hashes[start : start + 1000])
                )
            )
        )
    return found


def plan(campaign: Campaign, audience: Audience) -> Planned:
    """The messages an audience's letters make: MPs by email (or post when no email
    is known); each signing school's head by email with the parents' letter; each
    address on a school's uploaded parents' list, unless it unsubscribed."""
    ours = (Letter.campaign_id == campaign.id, Letter.audience == audience)
    # What a message needs of its letter, not the letter's merge data (20,000 of them).
    letters = db.session.execute(
        select(
            Letter.id,
            Letter.recipient,
            Letter.recipient_name,
            Letter.problems,
            func.coalesce(Letter.merge[("mp", "email")].as_string(), "").label("mp_email"),
        )
        .where(*ours)
        .order_by(Letter.recipient_name)
    ).all()
    if not letters:
        raise NoLetters("Render the letters first: there are none to send.")
    try:
        if any(letter.problems is None for letter in letters):  # rendered before the check
            require_checked(list(db.session.scalars(select(Letter).where(*ours))))
        elif failing := [letter for letter in letters if letter.problems]:
            raise LettersError(failing_message(failing))
    except LettersError as exc:
        raise DeliveryError(str(exc)) from exc
    # Once sending starts the letters are locked, so a letter missing now would be
    # missing for good: every recipient's letter is rendered first.
    absent, names = glance.missing(campaign, audience)
    if absent:
        raise DeliveryError(glance.missing_message(absent, names))
    planned = Planned()
    heads = _signing_heads(campaign.id) if audience is Audience.PARENTS else {}
    lists = _parent_lists(campaign.id) if audience is Audience.PARENTS else {}
    parents = []

    def add(letter: Row, recipient: str, channel: Channel, name: str, address="", note=""):
        planned.rows.append(
            {
                "campaign_id": campaign.id,
                "audience": audience,
                "channel": channel,
                "recipient": recipient,
                "idempotency_key": idempotency_key(campaign.id, audience, recipient, channel),
                "letter_id": letter.id,
                "to_name": name,
                "to_address": address,
                "note": note,
                "state": MessageState.CREATED,
                "attempts": 0,
                "provider_id": "",
                "last_error": "",
            }
        )

    for letter in letters:
        if audience is Audience.MPS:
            if email := letter.mp_email:
                add(letter, letter.recipient, Channel.EMAIL, letter.recipient_name, email)
            else:
                add(letter, letter.recipient, Channel.POST, letter.recipient_name, note=NO_MP_EMAIL)
            continue
        urn = int(parse_recipient(letter.recipient)[1])
        head = heads.get(urn)
        if head:
            add(
                letter,
                letter.recipient,
                Channel.EMAIL,
                f"{head[1]}, {letter.recipient_name}",
                head[0],
            )
        else:
            add(letter, letter.recipient, Channel.POST, letter.recipient_name, note=NO_HEAD_EMAIL)
        if parent_list := lists.get(urn):
            planned.parent_list_ids.append(parent_list.id)
            parents.extend((letter, urn, address) for address in parent_list.emails)

    suppressed = dao_suppressed([email_hash(address) for _, _, address in parents])
    for letter, urn, address in parents:
        digest = email_hash(address)
        if digest in suppressed:
            planned.suppressed += 1
            continue
        add(
            letter,
            RecipientKind.PARENT.key(urn, digest[:20]),
            Channel.EMAIL,
            f"A parent at {letter.recipient_name}",
            address,
        )
    return planned


def require_sendable(campaign: Campaign) -> None:
    if campaign.state not in (CampaignState.CLOSED, CampaignState.SENT):
        raise DeliveryError("Letters are sent once sign-off is closed.")


def build_outbox(campaign: Campaign, audience: Audience) -> tuple[Planned, int]:
    """Save the audience's messages (those not already in the outbox) and take the
    parents' lists in, deleting their addresses from the lists. Returns the plan and
    how many messages were new. The caller commits."""
    require_sendable(campaign)
    planned = plan(campaign, audience)
    added = insert_new(Message, planned.rows, "idempotency_key")
    if planned.rows:
        lock_letters(campaign.id, audience)
    if audience is Audience.PARENTS:
        db.session.execute(
            update(ParentList)
            .where(ParentList.id.in_(planned.parent_list_ids))
            .values(emails=None, erased=datetime.now(UTC))
        )
    if campaign.state is CampaignState.CLOSED:
        campaign.move_to(CampaignState.SENT)
    return planned, added


def dao_keys(campaign_id: int, audience: Audience) -> set[str]:
    """The idempotency keys already in the outbox."""
    return set(
        db.session.scalars(
            select(Message.idempotency_key).where(
                Message.campaign_id == campaign_id, Message.audience == audience
            )
        )
    )


def dao_counts(campaign_id: int, audience: Audience) -> dict[str, dict[str, int]]:
    """Messages by channel and state: {"email": {"sent": 60, ...}, "post": {...}}."""
    counts: dict[str, dict[str, int]] = {c.value: {} for c in Channel}
    rows = db.session.execute(
        select(Message.channel, Message.state, func.count())
        .where(Message.campaign_id == campaign_id, Message.audience == audience)
        .group_by(Message.channel, Message.state)
    )
    for channel, state, n in rows:
        counts[channel.value][state.value] = n
    return counts

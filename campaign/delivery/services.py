"""What the lead does with an outbox after sending starts: retry failed messages,
decide about messages in doubt, mark the post as posted, send a test, read the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import Row, func, select

from campaign.delivery.compose import compose
from campaign.delivery.models import Channel, Message, MessageState
from campaign.directory.models import User
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience, Letter
from campaign.letters.services import dao_letters
from campaign.mail import mail_client
from campaign.paging import Page, paginate


def _scope(campaign_id: int, audience: Audience, channel: Channel = Channel.EMAIL):
    return (
        Message.campaign_id == campaign_id,
        Message.audience == audience,
        Message.channel == channel,
    )


def _retryable(campaign_id: int, audience: Audience) -> tuple:
    # Not parents whose addresses were erased with the send: nothing to send to.
    return (*_scope(campaign_id, audience), Message.to_address != "")


def dao_retryable_count(campaign_id: int, audience: Audience) -> int:
    return db.session.scalar(
        select(func.count()).where(
            *_retryable(campaign_id, audience), Message.state == MessageState.FAILED
        )
    )


def retry_failed(campaign_id: int, audience: Audience) -> int:
    """Failed emails go back to the queue with a fresh count of attempts (not parents
    whose addresses were erased with the send). The caller commits and queues the send."""
    return Message.move(
        *_retryable(campaign_id, audience),
        to=MessageState.CREATED,
        only_from={MessageState.FAILED},
        attempts=0,
        next_attempt=None,
    )


def in_doubt_before() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=current_app.config["SEND_IN_DOUBT_MINUTES"])


def _in_doubt(campaign_id: int, audience: Audience) -> tuple:
    return (*_scope(campaign_id, audience), Message.claimed < in_doubt_before())


def dao_in_doubt_count(campaign_id: int, audience: Audience) -> int:
    return db.session.scalar(
        select(func.count()).where(
            *_in_doubt(campaign_id, audience), Message.state == MessageState.SENDING
        )
    )


def send_in_doubt_again(campaign_id: int, audience: Audience) -> int:
    """The lead's decision: messages claimed long ago with no outcome and no event from
    SendGrid go back to the queue. They may reach someone twice; the page says so."""
    return Message.move(
        *_in_doubt(campaign_id, audience),
        to=MessageState.CREATED,
        only_from={MessageState.SENDING},
        next_attempt=None,
        last_error="Sent again by the lead after no confirmation from SendGrid.",
    )


def mark_posted(campaign_id: int, audience: Audience) -> int:
    """Letters in the post pack are recorded as sent once the lead has posted them."""
    return Message.move(
        *_scope(campaign_id, audience, Channel.POST),
        to=MessageState.SENT,
        only_from={MessageState.CREATED},
        sent=datetime.now(UTC),
    )


def _messages_query(
    campaign_id: int,
    audience: Audience | None,
    states: set | None,
    channel: Channel | None,
):
    """The campaign's messages, filtered, in the order every list shows them."""
    query = select(Message).where(Message.campaign_id == campaign_id)
    if audience is not None:
        query = query.where(Message.audience == audience)
    if states:
        query = query.where(Message.state.in_(states))
    if channel is not None:
        query = query.where(Message.channel == channel)
    return query.order_by(Message.audience, Message.to_name, Message.id)


def dao_messages(
    campaign_id: int,
    audience: Audience | None = None,
    *,
    states: set | None = None,
    channel: Channel | None = None,
    limit: int | None = None,
) -> list[Message]:
    query = _messages_query(campaign_id, audience, states, channel)
    return list(db.session.scalars(query.limit(limit)))


def dao_message_page(
    campaign_id: int,
    audience: Audience | None = None,
    *,
    states: set | None = None,
    channel: Channel | None = None,
    page: int = 1,
) -> Page[Message]:
    """One page of the messages dao_messages would list, in the same order."""
    return Page(*paginate(_messages_query(campaign_id, audience, states, channel), page))


def dao_first_letter(campaign_id: int, audience: Audience) -> tuple[int, str] | None:
    """The id and recipient of the audience's first letter (the one a test sends)."""
    row = db.session.execute(
        select(Letter.id, Letter.recipient_name)
        .where(Letter.campaign_id == campaign_id, Letter.audience == audience)
        .order_by(Letter.recipient_name)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def dao_post_letter_keys(campaign_id: int, audience: Audience) -> list[Row]:
    """(id, sha256) of the letters whose message goes by post, in pack order: what the
    post pack is made of, without the PDFs or the merge data."""
    return list(
        db.session.execute(
            select(Letter.id, Letter.sha256)
            .join(Message, Message.letter_id == Letter.id)
            .where(*_scope(campaign_id, audience, Channel.POST))
            .order_by(Letter.recipient_name, Letter.id)
        )
    )


def send_test(campaign: Campaign, audience: Audience, user: User) -> str:
    """The audience's first letter, exactly as its recipient would get it, to the lead."""
    letters = dao_letters(campaign.id, audience)  # the first one's PDF loads when sent
    if not letters:
        raise ValueError("Render the letters first.")
    letter = letters[0]
    sample = Message(
        id=0,
        campaign_id=campaign.id,
        audience=audience,
        channel=Channel.EMAIL,
        recipient=letter.recipient,
        idempotency_key=f"test:{campaign.id}:{audience.value}:{user.id}",
        letter=letter,
        letter_id=letter.id,
        to_address=user.email,
    )
    batch = next(compose([sample], campaign.association.email))
    batch.email.subject = f"[Test] {batch.email.subject}"
    batch.recipients[0].custom_args = {"test": "1"}
    return mail_client().send_batch(batch.email, batch.recipients)

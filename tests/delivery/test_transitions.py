"""The message's transition table and the one guarded UPDATE built from it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campaign.delivery.events import STATES
from campaign.delivery.models import (
    FINISHED,
    TRANSITIONS,
    Channel,
    Message,
    MessageState,
    sources,
)
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience, RecipientKind
from tests.factories import make_association


@pytest.fixture
def make_message(app):
    association = make_association()
    campaign = Campaign(association=association, slug="fair-funding", title="Fair funding")
    db.session.add(campaign)
    db.session.flush()

    def make(state: MessageState, code: str = "E14001077") -> Message:
        recipient = RecipientKind.MP.key(code)
        message = Message(
            campaign_id=campaign.id,
            audience=Audience.MPS,
            channel=Channel.EMAIL,
            recipient=recipient,
            idempotency_key=f"{campaign.id}:mps:{recipient}:email",
            to_address="mp@parliament.example",
            state=state,
        )
        db.session.add(message)
        db.session.commit()
        return message

    return make


def reread(message: Message) -> Message:
    db.session.expire_all()
    return db.session.scalar(select(Message).where(Message.id == message.id))


def test_the_table_names_every_state_and_finished_states_are_never_left():
    assert set(TRANSITIONS) == set(MessageState)
    for state in (MessageState.DELIVERED, MessageState.BOUNCED, MessageState.DROPPED):
        assert TRANSITIONS[state] == set()
    assert all(state not in moves for state, moves in TRANSITIONS.items())


def test_an_event_moves_a_message_only_forward():
    """What the webhook may move from is what the ranks call earlier."""
    for target in {t for t in STATES.values() if t is not None}:
        earlier = [s for s in MessageState if not s.finished and s.rank < target.rank]
        assert sources(target) == earlier


def test_finished_states_rank_after_every_state_in_flight():
    in_flight = [s for s in MessageState if s not in FINISHED]
    assert [s.rank for s in in_flight] == [0, 1, 2]
    assert {s.rank for s in FINISHED} == {3}


def test_a_move_the_table_allows_is_made_with_its_values(make_message):
    message = make_message(MessageState.SENDING)
    moved = Message.move(Message.id == message.id, to=MessageState.FAILED, last_error="Refused")
    db.session.commit()
    message = reread(message)
    assert moved == 1
    assert (message.state, message.last_error) == (MessageState.FAILED, "Refused")
    assert message.updated is not None


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (MessageState.CREATED, MessageState.FAILED),  # only the sender fails a message
        (MessageState.SENT, MessageState.SENDING),
        (MessageState.DELIVERED, MessageState.CREATED),  # a finished state stays
        (MessageState.BOUNCED, MessageState.SENT),
        (MessageState.FAILED, MessageState.SENT),
    ],
)
def test_a_move_the_table_does_not_allow_changes_nothing(make_message, start, to):
    message = make_message(start)
    moved = Message.move(Message.id == message.id, to=to, last_error="Should not be written")
    db.session.commit()
    message = reread(message)
    assert moved == 0
    assert (message.state, message.last_error, message.updated) == (start, "", None)


def test_a_move_narrowed_to_some_states_leaves_the_others(make_message):
    failed = make_message(MessageState.FAILED, "E14001077")
    sending = make_message(MessageState.SENDING, "E14001535")
    moved = Message.move(
        Message.id.in_([failed.id, sending.id]),
        to=MessageState.CREATED,
        only_from={MessageState.FAILED},
    )
    db.session.commit()
    assert moved == 1
    assert reread(failed).state is MessageState.CREATED
    assert reread(sending).state is MessageState.SENDING


def test_narrowing_to_a_state_the_table_does_not_allow_is_refused(make_message):
    message = make_message(MessageState.FAILED)
    with pytest.raises(ValueError, match="cannot move to sent from failed"):
        Message.move(
            Message.id == message.id, to=MessageState.SENT, only_from={MessageState.FAILED}
        )
    assert reread(message).state is MessageState.FAILED


def test_an_update_that_keeps_the_state_writes_only_to_messages_in_it(make_message):
    sending = make_message(MessageState.SENDING, "E14001077")
    sent = make_message(MessageState.SENT, "E14001535")
    noted = Message.move(
        Message.id.in_([sending.id, sent.id]),
        to=None,
        only_from={MessageState.SENDING},
        last_error="In doubt",
    )
    db.session.commit()
    assert noted == 1
    assert (reread(sending).state, reread(sending).last_error) == (
        MessageState.SENDING,
        "In doubt",
    )
    assert reread(sent).last_error == ""

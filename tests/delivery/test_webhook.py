"""SendGrid's signed event webhook: verified, replay-safe, order-safe, forgery-proof."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from campaign.delivery.models import DeliveryEvent, Message, MessageState, Suppression, email_hash
from campaign.delivery.outbox import build_outbox
from campaign.delivery.sending import send_ready
from campaign.extensions import db
from campaign.letters.models import Audience

URL = "/webhooks/sendgrid"


@pytest.fixture
def sent(closed, signer):
    """Both heads' parent letters sent through the file outbox."""
    build_outbox(closed.campaign, Audience.PARENTS)
    db.session.commit()
    send_ready(closed.campaign.id, Audience.PARENTS)
    found = db.session.scalars(select(Message).order_by(Message.recipient)).all()
    return {m.recipient: m for m in found}


def event(message, kind, n=0, **extra):
    return {
        "email": message.to_address or "someone@home.example",
        "timestamp": int(time.time()) + n,
        "event": kind,
        "sg_event_id": f"ev-{message.id}-{kind}-{n}",
        "sg_message_id": f"{message.provider_id}.filter0001",
        "message_id": str(message.id),
        **extra,
    }


def post(client, signer, events, *, timestamp=None, headers=None):
    body = json.dumps(events).encode()
    signed = signer.headers(body, timestamp or int(time.time()))
    return client.post(URL, data=body, headers={**signed, **(headers or {})})


def state_of(message) -> MessageState:
    return db.session.scalar(select(Message.state).where(Message.id == message.id))


def events_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DeliveryEvent))


def test_delivered_marks_the_message_and_keeps_the_event_without_the_address(client, signer, sent):
    saxon = sent["school:900001"]
    response = post(client, signer, [event(saxon, "processed"), event(saxon, "delivered", 1)])
    assert response.status_code == 200
    assert response.json["recorded"] == 2
    assert state_of(saxon) is MessageState.DELIVERED
    stored = db.session.scalars(select(DeliveryEvent).order_by(DeliveryEvent.id)).all()
    assert [e.event for e in stored] == ["processed", "delivered"]
    assert "email" not in stored[0].payload and stored[0].payload["message_id"] == str(saxon.id)


def test_a_replayed_post_changes_nothing(client, signer, sent):
    saxon = sent["school:900001"]
    events = [event(saxon, "delivered")]
    post(client, signer, events)
    again = post(client, signer, events)
    assert again.status_code == 200 and again.json["duplicates"] == 1
    assert events_count() == 1 and state_of(saxon) is MessageState.DELIVERED


def test_events_out_of_order_never_move_a_message_back(client, signer, sent):
    saxon = sent["school:900001"]
    post(client, signer, [event(saxon, "delivered", 5)])
    post(client, signer, [event(saxon, "processed", 0), event(saxon, "deferred", 1)])
    assert state_of(saxon) is MessageState.DELIVERED
    post(client, signer, [event(saxon, "bounce", 9)])  # a finished state stays
    assert state_of(saxon) is MessageState.DELIVERED
    assert events_count() == 4


def test_a_bounce_is_final_and_suppresses_the_address(client, signer, sent):
    thurrock = sent["school:900003"]
    post(client, signer, [event(thurrock, "bounce", reason="550 No such user")])
    assert state_of(thurrock) is MessageState.BOUNCED
    post(client, signer, [event(thurrock, "delivered", 3)])
    assert state_of(thurrock) is MessageState.BOUNCED
    assert db.session.scalar(select(Suppression.reason)) == "bounce"
    assert db.session.scalar(select(Suppression.email_sha256)) == email_hash("head@a.example")


def test_unknown_message_ids_are_ignored(client, signer, sent):
    saxon = sent["school:900001"]
    stray = [{**event(saxon, "delivered"), "message_id": "999999"},
             {**event(saxon, "delivered", 1), "message_id": "not-a-number"},
             {"event": "delivered", "timestamp": 1}]  # fmt: skip
    response = post(client, signer, stray)
    assert response.status_code == 200 and response.json["unknown"] == 3
    assert events_count() == 0 and state_of(saxon) is MessageState.SENT


@pytest.mark.parametrize(
    "tamper",
    ["unsigned", "wrong key", "body changed", "old timestamp", "garbage signature"],
)
def test_a_forged_post_is_refused_and_changes_nothing(client, signer, sent, tamper):
    from tests.fakes import WebhookSigner

    saxon = sent["school:900001"]
    body = json.dumps([event(saxon, "delivered")]).encode()
    now = int(time.time())
    headers = signer.headers(body, now)
    if tamper == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif tamper == "wrong key":
        headers = WebhookSigner().headers(body, now)
    elif tamper == "body changed":
        body = body.replace(b"delivered", b"bounce")
    elif tamper == "old timestamp":
        headers = signer.headers(body, now - 11 * 60)
    else:
        headers["X-Twilio-Email-Event-Webhook-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 403
    assert events_count() == 0 and state_of(saxon) is MessageState.SENT


def test_without_a_configured_key_every_post_is_refused(client, signer, sent, app):
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = ""
    response = post(client, signer, [event(sent["school:900001"], "delivered")])
    assert response.status_code == 403 and events_count() == 0


def test_a_signed_body_that_is_not_a_list_of_events_is_a_bad_request(client, signer, sent):
    body = b'{"event": "delivered"}'
    response = client.post(URL, data=body, headers=signer.headers(body, int(time.time())))
    assert response.status_code == 400 and events_count() == 0


def test_a_blocked_bounce_does_not_suppress_and_addresses_are_scrubbed(client, signer, sent):
    saxon = sent["school:900001"]
    reason = "550 5.1.1 <exec@a.example>: mailbox unavailable"
    post(client, signer, [event(saxon, "bounce", type="blocked", reason=reason)])
    assert state_of(saxon) is MessageState.BOUNCED
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    stored = db.session.scalar(select(DeliveryEvent))
    assert stored.payload["reason"] == "550 5.1.1 <[address]>: mailbox unavailable"
    assert "exec@a.example" not in json.dumps(stored.payload)


# --- bodies that are signed but not what SendGrid sends ------------------------------


def post_raw(client, signer, body: bytes):
    return client.post(URL, data=body, headers=signer.headers(body, int(time.time())))


def with_message_id(event_json: str, value: str) -> bytes:
    """The event with message_id written as raw JSON (Infinity is not valid JSON)."""
    return event_json.replace('"message_id": "MID"', f'"message_id": {value}').encode()


@pytest.mark.parametrize(
    "bad",
    [
        {"message_id": "Infinity"},
        {"message_id": "-Infinity"},
        {"message_id": "NaN"},
        {"message_id": "1e400"},
        {"message_id": "1.5"},
        {"message_id": "true"},
        {"message_id": '{"id": 1}'},
        {"email": '{"address": "a@b.example"}'},
        {"email": "12"},
        {"event": "7"},
        {"event": '"d\\u0000elivered"'},
        {"sg_event_id": '["ev"]'},
        {"sg_event_id": '"ev\\u0000"'},
        {"reason": '"550 \\u0000"'},
        {"reason": '[[[[[[[[[["deep"]]]]]]]]]]'},
        {"timestamp": "1" + "0" * 40},
    ],
    ids=lambda bad: "-".join(f"{k}={v}" for k, v in bad.items()),
)
def test_a_malformed_event_is_ignored_and_the_rest_are_recorded(client, signer, sent, bad, caplog):
    saxon, thurrock = sent["school:900001"], sent["school:900003"]
    broken = {**event(saxon, "bounce"), **dict.fromkeys(bad, "RAW")}
    text = json.dumps([broken, event(thurrock, "delivered")])
    for key, value in bad.items():
        text = text.replace(f'"{key}": "RAW"', f'"{key}": {value}', 1)
    response = post_raw(client, signer, text.encode())
    assert response.status_code == 200
    assert response.json["ignored"] == 1 and response.json["recorded"] == 1
    assert state_of(saxon) is MessageState.SENT and state_of(thurrock) is MessageState.DELIVERED
    assert events_count() == 1
    assert "Ignored 1 of 2 events in a webhook post" in caplog.text


@pytest.mark.parametrize("message_id", [str(2**31), str(2**63), str(10**25), "-1", "0"])
def test_a_message_id_out_of_range_is_not_ours(client, signer, sent, message_id):
    saxon = sent["school:900001"]
    for value in (message_id, json.dumps(message_id)):  # as a number and as text
        body = json.dumps([{**event(saxon, "delivered"), "message_id": "RAW"}])
        response = post_raw(client, signer, body.replace('"RAW"', value).encode())
        assert response.status_code == 200 and response.json["unknown"] == 1
    assert events_count() == 0 and state_of(saxon) is MessageState.SENT


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'[{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"]",
     b"[1" + b"0" * 5000 + b"]", b"\xff\xfe[]", b"", b"[{}]" + b" " * 10],
    ids=["lists-100000-deep", "objects-50000-deep", "5000-digit-number", "not-utf-8", "empty",
         "trailing-space"],
)  # fmt: skip
def test_a_body_that_cannot_be_read_is_refused_not_an_error(client, signer, sent, body):
    response = post_raw(client, signer, body)
    assert response.status_code in (200, 400, 403)  # 403: not UTF-8, so not signed text
    assert events_count() == 0


def test_a_body_over_the_bound_is_refused_unread(client, signer, sent):
    from campaign.delivery.events import MAX_BODY_BYTES

    saxon = sent["school:900001"]
    body = json.dumps([event(saxon, "delivered")] + [{"pad": "x" * 1000}] * 2200).encode()
    assert len(body) > MAX_BODY_BYTES
    response = post_raw(client, signer, body)
    assert response.status_code == 413 and events_count() == 0

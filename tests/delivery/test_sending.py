"""The outbox and the sender: each message made once, sent once, whatever fails."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaign.delivery import steps, tasks
from campaign.delivery.models import Channel, Message, MessageState, ParentList, Suppression
from campaign.delivery.models import email_hash as hashed
from campaign.delivery.outbox import DeliveryError, build_outbox
from campaign.delivery.sending import claim, send_ready
from campaign.delivery.services import retry_failed
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.mail import FileMailClient, MailClient, SendGridClient
from tests import fakes
from tests.delivery.conftest import MP_EMAIL
from tests.fakes import refused_url


def messages(campaign, audience=None) -> dict[str, Message]:
    query = select(Message).where(Message.campaign_id == campaign.id)
    if audience:
        query = query.where(Message.audience == audience)
    db.session.expire_all()
    return {m.recipient: m for m in db.session.scalars(query)}


def outbox_for(closed, audience):
    planned, added = build_outbox(closed.campaign, audience)
    db.session.commit()
    return planned, added


# --- The outbox -------------------------------------------------------------------


def test_mps_with_an_email_get_one_and_the_rest_go_to_the_print_pack(closed):
    planned, added = outbox_for(closed, Audience.MPS)
    assert added == 2
    made = messages(closed.campaign, Audience.MPS)
    basildon, thurrock = made["constituency:E14001077"], made["constituency:E14001535"]
    assert (basildon.channel, basildon.to_address) == (Channel.EMAIL, MP_EMAIL)
    assert (thurrock.channel, thurrock.to_address) == (Channel.POST, "")
    assert "No email address on record" in thurrock.note
    assert {m.state for m in made.values()} == {MessageState.CREATED}
    assert closed.campaign.state is CampaignState.SENT


def test_making_the_outbox_twice_makes_nothing_new(closed):
    outbox_for(closed, Audience.MPS)
    first = {k: m.id for k, m in messages(closed.campaign).items()}
    _, added = outbox_for(closed, Audience.MPS)
    assert added == 0
    assert {k: m.id for k, m in messages(closed.campaign).items()} == first


def test_the_database_refuses_a_second_message_with_the_same_key(closed):
    outbox_for(closed, Audience.MPS)
    original = messages(closed.campaign)["constituency:E14001077"]
    copy = Message(
        campaign_id=original.campaign_id,
        audience=original.audience,
        channel=original.channel,
        recipient=original.recipient,
        idempotency_key=original.idempotency_key,
    )
    db.session.add(copy)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_parent_letters_go_to_each_signing_head(closed):
    outbox_for(closed, Audience.PARENTS)
    made = messages(closed.campaign, Audience.PARENTS)
    assert {k: m.to_address for k, m in made.items()} == {
        "school:900001": "exec@a.example",
        "school:900003": "head@a.example",
    }  # the decliner (Abbey) gets nothing


def test_sending_is_refused_before_sign_off_closes(signed):
    with pytest.raises(DeliveryError, match="once sign-off is closed"):
        build_outbox(signed.campaign, Audience.MPS)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def add_parent_list(closed, urn, emails):
    school = next(s for s in closed.schools if s.urn == urn)
    db.session.add(
        ParentList(
            campaign_id=closed.campaign.id, school_id=school.id, emails=emails, count=len(emails)
        )
    )
    db.session.commit()


def test_a_parents_list_is_taken_in_and_its_addresses_deleted(closed):
    add_parent_list(closed, 900001, ["p1@home.example", "p2@home.example", "gone@home.example"])
    db.session.add(Suppression(email_sha256=hashed("GONE@home.example "), reason="unsubscribe"))
    db.session.commit()
    planned, _ = outbox_for(closed, Audience.PARENTS)
    assert planned.suppressed == 1
    made = messages(closed.campaign, Audience.PARENTS)
    parents = sorted(m.to_address for k, m in made.items() if k.startswith("parent:900001:"))
    assert parents == ["p1@home.example", "p2@home.example"]
    kept = db.session.scalars(select(ParentList)).one()
    assert kept.emails is None and kept.count == 3 and kept.erased is not None


# --- Sending --------------------------------------------------------------------


def test_an_mp_email_carries_the_letter_and_only_our_id(closed, sendgrid):
    outbox_for(closed, Audience.MPS)
    summary = send_ready(closed.campaign.id, Audience.MPS)
    assert (summary.sent, summary.api_calls) == (1, 1)
    message = messages(closed.campaign)["constituency:E14001077"]
    assert message.state is MessageState.SENT and message.provider_id.startswith("msg-")
    body = sendgrid.requests[0]["json"]
    person = body["personalizations"][0]
    assert person["to"] == [{"email": MP_EMAIL}]
    assert person["custom_args"] == {"message_id": str(message.id)}  # nothing personal
    assert person["headers"]["Message-ID"].endswith("@demo.example>")
    assert body["reply_to"] == {"email": "office@assoc-a.example"}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "Basildon and Billericay" in body["content"][0]["value"]
    (attachment,) = body["attachments"]
    assert attachment["type"] == "application/pdf" and attachment["filename"].endswith(".pdf")
    pdf = PdfReader(io.BytesIO(base64.b64decode(attachment["content"])))
    assert "Saxon High" in pdf.pages[0].extract_text()
    assert sendgrid.accepted == {str(message.id): 1}


def test_the_file_backend_writes_the_same_headers_and_attachment(closed, outbox):
    outbox_for(closed, Audience.PARENTS)
    send_ready(closed.campaign.id, Audience.PARENTS)
    made = messages(closed.campaign)
    emails = {m["To"]: m for m in outbox()}
    saxon = emails["exec@a.example"]
    assert saxon["Subject"] == "For your parents: Fair funding"
    assert saxon["Reply-To"] == "office@assoc-a.example"
    assert saxon["X-Custom-message_id"] == str(made["school:900001"].id)
    assert saxon["Message-ID"].endswith("@demo.example>")
    text = saxon.get_body(("plain",)).get_content()
    assert "Please forward it to your parents" in text and "Dear Parents and Carers" in text
    (pdf,) = [part for part in saxon.iter_attachments()]
    assert pdf.get_content_type() == "application/pdf"
    assert "Saxon High" in PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()


def test_the_message_id_header_is_stable(closed, sendgrid):
    outbox_for(closed, Audience.MPS)
    sendgrid.plan = [500]
    send_ready(closed.campaign.id, Audience.MPS)
    first, second = (
        r["json"]["personalizations"][0]["headers"]["Message-ID"] for r in sendgrid.requests
    )
    assert first == second


def test_a_429_storm_ends_with_everything_sent_once(closed, sendgrid):
    add_parent_list(closed, 900003, [f"parent{n}@home.example" for n in range(30)])
    outbox_for(closed, Audience.PARENTS)
    sendgrid.plan = [429] * 6
    sendgrid.retry_after = "0"
    summary = send_ready(closed.campaign.id, Audience.PARENTS)
    made = messages(closed.campaign)
    assert {m.state for m in made.values()} == {MessageState.SENT}
    assert summary.retrying > 0
    assert sorted(sendgrid.accepted) == sorted(str(m.id) for m in made.values())
    assert set(sendgrid.accepted.values()) == {1}


def test_retry_after_is_honoured(closed, sendgrid):
    outbox_for(closed, Audience.MPS)
    sendgrid.plan = [429]
    sendgrid.retry_after = "120"
    before = datetime.now(UTC)
    summary = send_ready(closed.campaign.id, Audience.MPS, wait=False)
    message = messages(closed.campaign)["constituency:E14001077"]
    assert summary.retrying == 1 and message.state is MessageState.CREATED
    assert message.next_attempt - before >= timedelta(seconds=119)
    assert claim(closed.campaign.id, Audience.MPS, 10) == []  # not before its time


def test_sendgrid_out_of_reach_is_retried(closed, sendgrid, app):
    outbox_for(closed, Audience.MPS)
    app.config.update(SEND_BACKOFF_BASE=60, SEND_BACKOFF_CAP=60)
    live = app.config["SENDGRID_API_HOST"]
    with refused_url() as nowhere:
        app.config["SENDGRID_API_HOST"] = nowhere
        summary = send_ready(closed.campaign.id, Audience.MPS, wait=False)
    assert summary.retrying == 1
    message = messages(closed.campaign)["constituency:E14001077"]
    assert message.state is MessageState.CREATED and "could not be reached" in message.last_error
    assert message.next_attempt > datetime.now(UTC) + timedelta(seconds=20)
    message.next_attempt = datetime.now(UTC)  # the backoff has passed
    db.session.commit()
    app.config["SENDGRID_API_HOST"] = live
    send_ready(closed.campaign.id, Audience.MPS)
    message = messages(closed.campaign)["constituency:E14001077"]
    assert message.state is MessageState.SENT and message.attempts == 2
    assert sendgrid.accepted == {str(message.id): 1}


def test_a_timeout_before_sendgrid_accepted_is_retried(closed, sendgrid, app):
    app.config["SENDGRID_TIMEOUT"] = 0.2
    sendgrid.hang, sendgrid.plan = 0.5, ["timeout"]
    outbox_for(closed, Audience.MPS)
    send_ready(closed.campaign.id, Audience.MPS)
    message = messages(closed.campaign)["constituency:E14001077"]
    # The client cannot tell this timeout from one after acceptance: in doubt, not resent.
    assert message.state is MessageState.SENDING and "did not answer" in message.last_error
    assert sendgrid.accepted == {}


def test_no_answer_after_acceptance_is_never_sent_twice(closed, sendgrid, app, client, signer):
    app.config["SENDGRID_TIMEOUT"] = 0.2
    sendgrid.hang, sendgrid.plan = 0.5, ["accept-then-hang"]
    outbox_for(closed, Audience.MPS)
    summary = send_ready(closed.campaign.id, Audience.MPS)
    assert summary.uncertain == 1
    message = messages(closed.campaign)["constituency:E14001077"]
    assert message.state is MessageState.SENDING
    send_ready(closed.campaign.id, Audience.MPS)  # again: nothing to claim
    assert sendgrid.accepted == {str(message.id): 1}
    # SendGrid's processed event, carrying our id, settles it.
    body = json.dumps(
        [
            {
                "event": "processed",
                "message_id": str(message.id),
                "sg_event_id": "p1",
                "timestamp": int(time.time()),
            }
        ]
    ).encode()
    client.post("/webhooks/sendgrid", data=body, headers=signer.headers(body, int(time.time())))
    assert messages(closed.campaign)["constituency:E14001077"].state is MessageState.SENT


def test_a_400_fails_that_message_with_sendgrids_words_and_the_rest_go(closed, sendgrid):
    outbox_for(closed, Audience.PARENTS)
    made = messages(closed.campaign)
    sendgrid.reject_ids = {str(made["school:900001"].id)}
    summary = send_ready(closed.campaign.id, Audience.PARENTS)
    assert (summary.sent, summary.failed) == (1, 1)
    made = messages(closed.campaign)
    assert made["school:900003"].state is MessageState.SENT
    failed = made["school:900001"]
    assert failed.state is MessageState.FAILED and failed.attempts == 1
    assert "Does not contain a valid address." in failed.last_error

    sendgrid.reject_ids = set()
    assert retry_failed(closed.campaign.id, Audience.PARENTS) == 1
    db.session.commit()
    send_ready(closed.campaign.id, Audience.PARENTS)
    assert messages(closed.campaign)["school:900001"].state is MessageState.SENT
    assert set(sendgrid.accepted.values()) == {1}


def test_retries_are_bounded(closed, sendgrid, app):
    app.config["SEND_MAX_ATTEMPTS"] = 3
    sendgrid.plan = [500] * 10
    outbox_for(closed, Audience.MPS)
    send_ready(closed.campaign.id, Audience.MPS)
    message = messages(closed.campaign)["constituency:E14001077"]
    assert message.state is MessageState.FAILED and message.attempts == 3
    assert message.last_error.startswith("Gave up after 3 attempts")
    assert len(sendgrid.requests) == 3


def test_a_suppressed_address_is_never_mailed(closed, sendgrid):
    add_parent_list(closed, 900003, ["keep@home.example", "later@home.example"])
    outbox_for(closed, Audience.PARENTS)
    # Unsubscribed after the outbox was made, before the send.
    db.session.add(Suppression(email_sha256=hashed("later@home.example"), reason="unsubscribe"))
    db.session.commit()
    summary = send_ready(closed.campaign.id, Audience.PARENTS)
    assert summary.suppressed == 1
    addresses = [
        t["email"]
        for r in sendgrid.requests
        for p in r["json"]["personalizations"]
        for t in p["to"]
    ]
    assert "later@home.example" not in addresses and "keep@home.example" in addresses
    dropped = [m for m in messages(closed.campaign).values() if m.state is MessageState.DROPPED]
    assert len(dropped) == 1 and dropped[0].to_address == ""


def test_parents_of_a_school_go_in_one_request_with_unsubscribe_headers(closed, sendgrid):
    add_parent_list(closed, 900003, [f"parent{n}@home.example" for n in range(1200)])
    outbox_for(closed, Audience.PARENTS)
    send_ready(closed.campaign.id, Audience.PARENTS, claim_size=2000)
    parent_requests = [
        r["json"] for r in sendgrid.requests if len(r["json"]["personalizations"]) > 1
    ]
    assert sorted(len(b["personalizations"]) for b in parent_requests) == [200, 1000]
    person = parent_requests[0]["personalizations"][0]
    assert person["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link, mailto = person["headers"]["List-Unsubscribe"].split(", ")
    assert link.startswith("<http://localhost/unsubscribe/") and mailto.startswith("<mailto:")
    assert "parent" not in str(person["custom_args"])  # our id only
    made = messages(closed.campaign)
    parents = [m for k, m in made.items() if k.startswith("parent:")]
    assert len(parents) == 1200 and {m.state for m in parents} == {MessageState.SENT}
    assert {m.to_address for m in parents} == {""}  # erased once sent
    assert len(sendgrid.accepted) == 1202 and set(sendgrid.accepted.values()) == {1}


def test_a_claim_takes_no_more_than_its_size(closed):
    # On PostgreSQL, without statistics, one UPDATE … IN (SELECT … LIMIT 10 FOR UPDATE
    # SKIP LOCKED) was planned as a nested loop that ran the subquery again for each row,
    # and so claimed all 150 parents at once.
    add_parent_list(closed, 900001, [f"a{n}@home.example" for n in range(150)])
    outbox_for(closed, Audience.PARENTS)
    first = claim(closed.campaign.id, Audience.PARENTS, 10)
    second = claim(closed.campaign.id, Audience.PARENTS, 10)
    assert len(first) == len(second) == 10 and not set(first) & set(second)


@pytest.mark.parametrize("senders", [2, 3])
def test_senders_at_once_never_send_a_message_twice(closed, sendgrid, app, senders):
    add_parent_list(closed, 900001, [f"a{n}@home.example" for n in range(150)])
    add_parent_list(closed, 900003, [f"b{n}@home.example" for n in range(150)])
    outbox_for(closed, Audience.PARENTS)
    sendgrid.latency = 0.01
    campaign_id = closed.campaign.id
    start = threading.Barrier(senders)
    errors = []

    def worker():
        try:
            with app.app_context():
                start.wait()
                send_ready(campaign_id, Audience.PARENTS, claim_size=7)
                db.session.remove()
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    made = messages(closed.campaign)
    assert {m.state for m in made.values()} == {MessageState.SENT}
    assert len(sendgrid.accepted) == 302 and set(sendgrid.accepted.values()) == {1}


def test_a_send_queues_several_senders(closed, app, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "send_campaign_messages", lambda *args: queued.append(args))
    app.config["SEND_TASKS"] = 3
    steps.send(closed.campaign, Audience.PARENTS)
    assert queued == [(closed.campaign.id, "parents")] * 3


class BrokenForOne(FileMailClient):
    """A backend with a bug that shows for one address."""

    def send_batch(self, email, recipients):
        if recipients[0].email == "exec@a.example":
            raise RuntimeError("a bug")
        return super().send_batch(email, recipients)


def test_an_unexpected_error_fails_its_message_and_the_rest_go(closed, app, outbox):
    outbox_for(closed, Audience.PARENTS)
    client = BrokenForOne(app.config["OUTBOX_DIR"], app.config["MAIL_FROM"])
    summary = send_ready(closed.campaign.id, Audience.PARENTS, client=client)
    assert (summary.sent, summary.failed) == (1, 1)
    made = messages(closed.campaign)
    assert made["school:900003"].state is MessageState.SENT
    assert made["school:900001"].state is MessageState.FAILED
    assert "RuntimeError" in made["school:900001"].last_error
    assert [m["To"] for m in outbox()] == ["head@a.example"]


def test_a_stopped_send_is_resumed_by_the_minute_task(closed, outbox):
    outbox_for(closed, Audience.PARENTS)  # saved, but no sender ran (a worker restarted)
    tasks.resume_sending.call_local()
    assert {m.state for m in messages(closed.campaign).values()} == {MessageState.SENT}
    assert len(outbox()) == 2
    tasks.resume_sending.call_local()  # nothing left: nothing sent again
    assert len(outbox()) == 2


def test_a_message_whose_letter_was_removed_fails_and_says_why(closed, outbox):
    outbox_for(closed, Audience.PARENTS)
    made = messages(closed.campaign)
    db.session.delete(made["school:900001"].letter)
    db.session.commit()
    summary = send_ready(closed.campaign.id, Audience.PARENTS)
    assert (summary.sent, summary.failed) == (1, 1)
    orphan = messages(closed.campaign)["school:900001"]
    assert orphan.state is MessageState.FAILED and "render the letters again" in orphan.last_error
    assert [m["To"] for m in outbox()] == ["head@a.example"]


def test_one_bad_address_among_parents_fails_alone_and_the_rest_go(closed, sendgrid):
    add_parent_list(closed, 900003, [f"p{n}@home.example" for n in range(5)])
    outbox_for(closed, Audience.PARENTS)
    made = messages(closed.campaign)
    bad = next(
        m for k, m in made.items() if k.startswith("parent:") and m.to_address == "p2@home.example"
    )
    sendgrid.reject_ids = {str(bad.id)}  # SendGrid refuses any request carrying it
    send_ready(closed.campaign.id, Audience.PARENTS)
    made = messages(closed.campaign)
    parents = {m.id: m for k, m in made.items() if k.startswith("parent:")}
    assert parents.pop(bad.id).state is MessageState.FAILED
    assert {m.state for m in parents.values()} == {MessageState.SENT}
    assert made[bad.recipient].to_address == "p2@home.example"  # kept, so Try again can work
    assert len(sendgrid.accepted) == 6 and set(sendgrid.accepted.values()) == {1}

    sendgrid.reject_ids = set()
    assert retry_failed(closed.campaign.id, Audience.PARENTS) == 1
    db.session.commit()
    send_ready(closed.campaign.id, Audience.PARENTS)
    again = messages(closed.campaign)[bad.recipient]
    assert again.state is MessageState.SENT and again.to_address == ""
    assert sendgrid.accepted[str(bad.id)] == 1


class ReportedBeforeAnswered(MailClient):
    """SendGrid whose delivery event reaches the webhook before its 202 reaches us."""

    def __init__(self, inner, app, signer):
        self.inner, self.app, self.signer = inner, app, signer

    def send_batch(self, email, recipients):
        answer = self.inner.send_batch(email, recipients)
        now = int(time.time())
        events = [
            {
                "event": "delivered",
                "message_id": r.custom_args["message_id"],
                "sg_event_id": f"d{r.custom_args['message_id']}",
                "timestamp": now,
            }
            for r in recipients
        ]
        body = json.dumps(events).encode()
        self.app.test_client().post(
            "/webhooks/sendgrid", data=body, headers=self.signer.headers(body, now)
        )
        return answer


def test_an_event_before_the_answer_is_kept_and_the_address_still_erased(
    closed, sendgrid, app, signer
):
    add_parent_list(closed, 900003, ["early@home.example"])
    outbox_for(closed, Audience.PARENTS)
    inner = SendGridClient(
        fakes.SENDGRID_KEY, "campaigns@demo.example", host=app.config["SENDGRID_API_HOST"]
    )
    send_ready(
        closed.campaign.id, Audience.PARENTS, client=ReportedBeforeAnswered(inner, app, signer)
    )
    made = messages(closed.campaign)
    assert {m.state for m in made.values()} == {MessageState.DELIVERED}  # not set back to sent
    parent = next(m for k, m in made.items() if k.startswith("parent:"))
    assert parent.to_address == "" and parent.provider_id.startswith("msg-")


def test_a_late_processed_event_does_not_overwrite_a_failure(closed, sendgrid, client, signer):
    outbox_for(closed, Audience.MPS)
    sendgrid.plan = [400]
    send_ready(closed.campaign.id, Audience.MPS)
    message = messages(closed.campaign)["constituency:E14001077"]
    assert message.state is MessageState.FAILED
    body = json.dumps(
        [
            {
                "event": "processed",
                "message_id": str(message.id),
                "sg_event_id": "late",
                "timestamp": int(time.time()),
            }
        ]
    ).encode()
    client.post("/webhooks/sendgrid", data=body, headers=signer.headers(body, int(time.time())))
    assert messages(closed.campaign)["constituency:E14001077"].state is MessageState.FAILED


def test_a_sender_holds_one_claim_at_a_time_not_the_audience(closed, sendgrid):
    # The sender's memory is bounded by its claim (README, "Each message once"): rows of
    # earlier rounds are not kept in the session once their outcomes are committed.
    add_parent_list(closed, 900001, [f"a{n}@home.example" for n in range(150)])
    add_parent_list(closed, 900003, [f"b{n}@home.example" for n in range(150)])
    outbox_for(closed, Audience.PARENTS)
    before = len(db.session.identity_map)  # the scene's own rows
    held = []
    summary = send_ready(
        closed.campaign.id,
        Audience.PARENTS,
        claim_size=10,
        progress=lambda _: held.append(len(db.session.identity_map) - before),
    )
    assert summary.sent == 302 and len(held) > 30
    assert max(held) <= 10 + 2  # a claim's messages and their letters

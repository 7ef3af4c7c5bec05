"""The mail backends: the file outbox, and SendGrid against a local v3 server."""

from __future__ import annotations

import base64
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from campaign.mail import (
    Attachment,
    Email,
    FileMailClient,
    PermanentMailError,
    Recipient,
    RetryableMailError,
    SendGridClient,
    UncertainMailError,
    mail_client,
)
from tests import fakes

SENDER = "campaigns@demo.example"
MESSAGE = Email(
    to="sian.jones@oakfield.example",
    subject="Your sign-in link, Siân",
    text="Dear Siân Jones,\n\nhttps://example.org/sign-in/abc\n",
    html='<p>Dear Siân Jones,</p><p><a href="https://example.org/sign-in/abc">Sign in</a></p>',
    custom_args={"message_id": "42"},
)
TEXT_ONLY = Email(to="head@oakfield.example", subject="Reminder", text="Please sign.\n")


def read_eml(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


# --- The file outbox ------------------------------------------------------------


def test_file_backend_writes_an_eml_a_mail_reader_can_open(tmp_path):
    outbox = tmp_path / "instance" / "outbox"  # made on first use
    name = FileMailClient(outbox, SENDER).send(MESSAGE)
    assert [p.name for p in outbox.iterdir()] == [name]  # no half-written .tmp left
    assert name.endswith(".eml")
    parsed = read_eml(outbox / name)
    assert (parsed["To"], parsed["From"], parsed["Subject"]) == (
        "sian.jones@oakfield.example", SENDER, "Your sign-in link, Siân"
    )  # fmt: skip
    assert parsed["Message-ID"] and parsed["Date"] and parsed["X-Custom-message_id"] == "42"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content() == MESSAGE.text
    assert parsed.get_body(("html",)).get_content().strip() == MESSAGE.html


def test_file_backend_text_only_message_has_no_html_part(tmp_path):
    FileMailClient(tmp_path, SENDER).send(TEXT_ONLY)
    [path] = tmp_path.iterdir()
    parsed = read_eml(path)
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_body(("html",)) is None
    assert parsed.get_content() == "Please sign.\n"


def test_file_backend_keeps_every_message(tmp_path):
    client = FileMailClient(tmp_path, SENDER)
    names = {client.send(MESSAGE), client.send(TEXT_ONLY)}
    assert {p.name for p in tmp_path.iterdir()} == names and len(names) == 2
    assert sorted(read_eml(tmp_path / n)["To"] for n in names) == [
        "head@oakfield.example", "sian.jones@oakfield.example"
    ]  # fmt: skip


# --- SendGrid, against a local server speaking its v3 API ------------------------


@pytest.fixture
def sendgrid():
    """A local SendGrid v3 server: yields (base URL, recorder of what it received)."""
    with fakes.serve(fakes.sendgrid) as served:
        yield served


def test_sendgrid_backend_posts_the_v3_body_and_returns_the_message_id(sendgrid):
    url, recorder = sendgrid
    message_id = SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url).send(MESSAGE)
    assert message_id == "msg-1"
    [request] = recorder.requests
    assert (request["method"], request["path"]) == ("POST", "/v3/mail/send")
    assert request["headers"]["Authorization"] == f"Bearer {fakes.SENDGRID_KEY}"
    assert request["json"] == {
        "from": {"email": SENDER},
        "subject": "Your sign-in link, Siân",
        "personalizations": [{"to": [{"email": "sian.jones@oakfield.example"}]}],
        "content": [
            {"type": "text/plain", "value": MESSAGE.text},
            {"type": "text/html", "value": MESSAGE.html},
        ],
        "custom_args": {"message_id": "42"},
    }


def test_sendgrid_text_only_message_sends_plain_content_only(sendgrid):
    url, recorder = sendgrid
    client = SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url)
    assert [client.send(TEXT_ONLY), client.send(TEXT_ONLY)] == ["msg-1", "msg-2"]
    body = recorder.requests[0]["json"]
    assert body["content"] == [{"type": "text/plain", "value": "Please sign.\n"}]
    assert "custom_args" not in body


@pytest.mark.parametrize("status", [429, 500, 503])
def test_sendgrid_throttling_and_server_errors_are_retryable(sendgrid, status):
    url, recorder = sendgrid
    recorder.status = status
    with pytest.raises(RetryableMailError, match=f"SendGrid answered {status}"):
        SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url).send(MESSAGE)
    assert len(recorder.requests) == 1


def test_sendgrid_rejecting_the_request_is_permanent_and_says_why(sendgrid):
    url, recorder = sendgrid
    recorder.status = 400
    recorder.body = {
        "errors": [
            {
                "message": "The to email does not contain a valid address.",
                "field": "personalizations.0.to.0.email",
                "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html",
            }
        ]
    }
    with pytest.raises(PermanentMailError, match="400") as raised:
        SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url).send(MESSAGE)
    assert "The to email does not contain a valid address." in str(raised.value)


def test_a_wrong_key_is_a_permanent_failure(sendgrid):
    url, recorder = sendgrid
    with pytest.raises(PermanentMailError, match="401"):
        SendGridClient("SG.wrong", SENDER, host=url).send(MESSAGE)
    assert recorder.requests[0]["headers"]["Authorization"] == "Bearer SG.wrong"


def test_unreachable_sendgrid_is_retryable():
    with (
        fakes.refused_url() as url,
        pytest.raises(RetryableMailError, match="could not be reached"),
    ):
        SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url).send(MESSAGE)


# --- Choosing the backend ---------------------------------------------------------


def test_without_a_sendgrid_key_mail_goes_to_the_outbox(app):
    client = mail_client()
    assert isinstance(client, FileMailClient)
    client.send(MESSAGE)
    [path] = Path(app.config["OUTBOX_DIR"]).iterdir()
    assert read_eml(path)["From"] == app.config["MAIL_FROM"]


def test_with_a_sendgrid_key_mail_goes_to_the_configured_host(app, sendgrid):
    url, recorder = sendgrid
    app.config.update(SENDGRID_API_KEY=fakes.SENDGRID_KEY, SENDGRID_API_HOST=url)
    client = mail_client()
    assert isinstance(client, SendGridClient)
    assert client.send(MESSAGE) == "msg-1"
    [request] = recorder.requests
    assert request["json"]["from"] == {"email": app.config["MAIL_FROM"]}
    assert not Path(app.config["OUTBOX_DIR"]).exists()


def test_sign_in_link_goes_through_sendgrid_when_configured(app, client, sendgrid):
    from campaign.extensions import db
    from tests.factories import make_association, make_user

    make_user("jane@oakfield.example", "Jane Smith", make_association())
    db.session.commit()
    url, recorder = sendgrid
    app.config.update(SENDGRID_API_KEY=fakes.SENDGRID_KEY, SENDGRID_API_HOST=url)
    client.post("/sign-in", data={"email": "jane@oakfield.example"})
    [request] = recorder.requests
    assert request["json"]["personalizations"][0]["to"] == [{"email": "jane@oakfield.example"}]
    assert "/sign-in/" in request["json"]["content"][0]["value"]


# --- Letters: attachments, reply-to, per-recipient headers, batches ---------------

LETTER = Email(
    to="",
    subject="Fair funding",
    text="Dear Parents and Carers,\n",
    html="<p>Dear Parents and Carers,</p>",
    reply_to="office@assoc.example",
    headers={"X-Campaign": "7"},
    attachments=[Attachment("900001 Saxon High.pdf", b"%PDF-1.7 letter", "application/pdf")],
)
PARENTS = [
    Recipient(f"p{n}@home.example", {"message_id": str(n)}, {"Message-ID": f"<{n}@demo.example>"})
    for n in range(3)
]


def test_sendgrid_batch_is_one_request_with_a_personalization_each(sendgrid):
    url, recorder = sendgrid
    SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url).send_batch(LETTER, PARENTS)
    [request] = recorder.requests
    body = request["json"]
    assert [p["to"] for p in body["personalizations"]] == [
        [{"email": f"p{n}@home.example"}] for n in range(3)
    ]
    assert [p["custom_args"] for p in body["personalizations"]] == [
        {"message_id": "0"}, {"message_id": "1"}, {"message_id": "2"}
    ]  # fmt: skip
    assert body["personalizations"][2]["headers"] == {"Message-ID": "<2@demo.example>"}
    assert body["reply_to"] == {"email": "office@assoc.example"}
    assert body["headers"] == {"X-Campaign": "7"}
    [attachment] = body["attachments"]
    assert attachment["filename"] == "900001 Saxon High.pdf"
    assert base64.b64decode(attachment["content"]) == b"%PDF-1.7 letter"
    assert recorder.accepted == {"0": 1, "1": 1, "2": 1}


def test_sendgrid_takes_at_most_1000_personalizations(sendgrid):
    url, recorder = sendgrid
    too_many = [Recipient(f"p{n}@home.example") for n in range(1001)]
    with pytest.raises(ValueError, match="1 to 1,000"):
        SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url).send_batch(LETTER, too_many)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "30"}, 30.0), ({"X-RateLimit-Reset": "+60"}, 60.0), ({}, None)],
)
def test_throttling_says_how_long_to_wait(headers, expected):
    def throttled(recorder, request):
        reset = headers.get("X-RateLimit-Reset")
        answer = {"X-RateLimit-Reset": str(int(time.time()) + 60)} if reset else headers
        return 429, answer, {"errors": [{"message": "too many requests"}]}

    with fakes.serve(throttled) as (url, _), pytest.raises(RetryableMailError) as raised:
        SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url).send(MESSAGE)
    if expected is None:
        assert raised.value.retry_after is None
    else:
        assert expected - 2 <= raised.value.retry_after <= expected


def test_no_answer_once_the_request_went_out_is_uncertain(sendgrid):
    url, recorder = sendgrid
    recorder.plan, recorder.hang = ["accept-then-hang"], 1.0
    with pytest.raises(UncertainMailError, match="did not answer"):
        SendGridClient(fakes.SENDGRID_KEY, SENDER, host=url, timeout=0.2).send(MESSAGE)
    assert recorder.accepted == {"42": 1}  # it was accepted: sending again would repeat it


def test_file_backend_writes_one_eml_per_recipient_with_the_attachment(tmp_path):
    FileMailClient(tmp_path, SENDER).send_batch(LETTER, PARENTS)
    written = sorted(tmp_path.iterdir())
    assert len(written) == 3
    parsed = read_eml(written[1])
    assert (parsed["To"], parsed["Reply-To"]) == ("p1@home.example", "office@assoc.example")
    assert parsed["Message-ID"] == "<1@demo.example>" and parsed["X-Custom-message_id"] == "1"
    assert parsed["X-Campaign"] == "7"
    [pdf] = list(parsed.iter_attachments())
    assert pdf.get_filename() == "900001 Saxon High.pdf" and pdf.get_content() == b"%PDF-1.7 letter"

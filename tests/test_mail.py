"""The mail backends: the file outbox, and SendGrid against a local v3 server."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from campaign.mail import (
    Email,
    FileMailClient,
    PermanentMailError,
    RetryableMailError,
    SendGridClient,
    mail_client,
)
from tests import fakes

MESSAGE = Email(
    to="jane@oakfield.example",
    subject="Your sign-in link",
    text="Dear Jane Smith,\n\nhttps://example.org/sign-in/abc\n",
    html="<p>Dear Jane Smith,</p>",
    custom_args={"message_id": "42"},
)


def test_file_backend_writes_a_readable_eml(tmp_path):
    name = FileMailClient(tmp_path, "campaigns@demo.example").send(MESSAGE)
    [path] = tmp_path.iterdir()
    assert path.name == name and path.suffix == ".eml"  # no half-written .tmp left
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert (parsed["To"], parsed["From"], parsed["Subject"]) == (
        "jane@oakfield.example", "campaigns@demo.example", "Your sign-in link"
    )  # fmt: skip
    assert "https://example.org/sign-in/abc" in parsed.get_body(("plain",)).get_content()
    assert "<p>Dear Jane Smith,</p>" in parsed.get_body(("html",)).get_content()


def test_sendgrid_backend_posts_the_v3_body_and_returns_the_message_id():
    with fakes.serve(fakes.sendgrid) as (url, recorder):
        message_id = SendGridClient("SG.test-key", "campaigns@demo.example", host=url).send(MESSAGE)
    assert message_id == "msg-1"
    [request] = recorder.requests
    assert (request["method"], request["path"]) == ("POST", "/v3/mail/send")
    body = request["json"]
    assert body["from"] == {"email": "campaigns@demo.example"}
    assert body["personalizations"][0]["to"] == [{"email": "jane@oakfield.example"}]
    assert body["subject"] == "Your sign-in link"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["custom_args"] == {"message_id": "42"}


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RetryableMailError), (500, RetryableMailError), (400, PermanentMailError)],
)
def test_sendgrid_failures_are_typed(status, error):
    with fakes.serve(fakes.sendgrid) as (url, recorder):
        recorder.status = status
        with pytest.raises(error, match=str(status)):
            SendGridClient("SG.test-key", "campaigns@demo.example", host=url).send(MESSAGE)


def test_a_wrong_key_is_a_permanent_failure():
    with fakes.serve(fakes.sendgrid) as (url, _), pytest.raises(PermanentMailError, match="401"):
        SendGridClient("SG.wrong", "campaigns@demo.example", host=url).send(MESSAGE)


def test_unreachable_sendgrid_is_retryable():
    client = SendGridClient("SG.test-key", "campaigns@demo.example", host="http://127.0.0.1:9")
    with pytest.raises(RetryableMailError):
        client.send(MESSAGE)


def test_configuration_chooses_the_backend(app):
    assert isinstance(mail_client(), FileMailClient)
    app.config.update(SENDGRID_API_KEY="SG.test-key", SENDGRID_API_HOST="http://127.0.0.1:1")
    client = mail_client()
    assert isinstance(client, SendGridClient)
    assert client.client.host == "http://127.0.0.1:1"


def test_sign_in_link_goes_through_sendgrid_when_configured(app, client):
    from campaign.extensions import db
    from tests.factories import make_association, make_user

    make_user("jane@oakfield.example", "Jane Smith", make_association())
    db.session.commit()
    with fakes.serve(fakes.sendgrid) as (url, recorder):
        app.config.update(SENDGRID_API_KEY="SG.test-key", SENDGRID_API_HOST=url)
        client.post("/sign-in", data={"email": "jane@oakfield.example"})
    [request] = recorder.requests
    assert request["json"]["personalizations"][0]["to"] == [{"email": "jane@oakfield.example"}]
    assert "/sign-in/" in request["json"]["content"][0]["value"]

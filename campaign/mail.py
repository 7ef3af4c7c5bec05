"""Outgoing email: one small client per backend, chosen by configuration.

The file backend is the embedded default: each message is written as an .eml
file under instance/outbox/, which Python's `email` parser reads back. SendGrid
is used when SENDGRID_API_KEY is set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Mail


class MailError(Exception):
    """A message could not be handed over."""


class RetryableMailError(MailError):
    """Worth trying again later (a network failure, a 5xx, throttling)."""


class PermanentMailError(MailError):
    """Trying again will not help (a bad address, a rejected request)."""


@dataclass
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Opaque ids only: nothing personal goes to the provider's custom_args.
    custom_args: dict[str, str] = field(default_factory=dict)


class MailClient:
    """Hands a message to a backend and returns the backend's id for it."""

    def send(self, email: Email) -> str:
        raise NotImplementedError


class FileMailClient(MailClient):
    def __init__(self, directory: str | Path, sender: str):
        self.directory = Path(directory)
        self.sender = sender

    def send(self, email: Email) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="outbox.local")
        for key, value in email.custom_args.items():
            message[f"X-Custom-{key}"] = value
        message.set_content(email.text)
        if email.html:
            message.add_alternative(email.html, subtype="html")
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        path = self.directory / name
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)  # readers never see half a message
        return name


class SendGridClient(MailClient):
    def __init__(self, api_key: str, sender: str, host: str = "https://api.sendgrid.com"):
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.sender = sender

    def send(self, email: Email) -> str:
        mail = Mail(
            from_email=self.sender,
            to_emails=email.to,
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        for key, value in email.custom_args.items():
            mail.add_custom_arg(CustomArg(key, value))
        try:
            response = self.client.send(mail)
        except HTTPError as exc:
            status = getattr(exc, "status_code", 0)
            if status == 429 or status >= 500:
                raise RetryableMailError(f"SendGrid answered {status}") from exc
            raise PermanentMailError(f"SendGrid answered {status}: {exc.body!r}") from exc
        except OSError as exc:
            raise RetryableMailError(f"SendGrid could not be reached: {exc}") from exc
        return response.headers.get("X-Message-Id", "") or ""


def mail_client() -> MailClient:
    """The backend the configuration chooses."""
    config = current_app.config
    if config["SENDGRID_API_KEY"]:
        return SendGridClient(
            config["SENDGRID_API_KEY"], config["MAIL_FROM"], config["SENDGRID_API_HOST"]
        )
    return FileMailClient(config["OUTBOX_DIR"], config["MAIL_FROM"])

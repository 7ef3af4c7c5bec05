"""Outgoing email: one small client per backend, chosen by configuration.

The file backend is the embedded default: each message is written as an .eml
file under instance/outbox/, with the same headers and attachments SendGrid
would send, which Python's `email` parser reads back. SendGrid is used when
SENDGRID_API_KEY is set.
"""

from __future__ import annotations

import base64
import http.client
import time
import urllib.error
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment as SgAttachment,
)
from sendgrid.helpers.mail import (
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    Header,
    Mail,
    Personalization,
    ReplyTo,
    To,
)


class MailError(Exception):
    """A message could not be handed over."""


class RetryableMailError(MailError):
    """Worth trying again later (a network failure, a timeout, a 5xx, throttling)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        # Seconds the provider asked us to wait (Retry-After, X-RateLimit-Reset).
        self.retry_after = retry_after


class PermanentMailError(MailError):
    """Trying again will not help (a bad address, a rejected request)."""


class UncertainMailError(MailError):
    """The request went out but no answer came back (a read timeout, a reset): the
    provider may have accepted it, so sending it again could deliver it twice."""


@dataclass
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


@dataclass
class Recipient:
    """One addressee of a batch, with what is theirs alone (ids, unsubscribe links)."""

    email: str
    custom_args: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Opaque ids only: nothing personal goes to the provider's custom_args.
    custom_args: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    reply_to: str | None = None
    attachments: list[Attachment] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One line whatever it was given (a title saved before titles were checked):
        # a line break would end the Subject header and break the message.
        self.subject = " ".join(self.subject.split())

    def recipient(self) -> Recipient:
        """The one addressee (custom_args and headers stay on the message itself)."""
        return Recipient(self.to)


class MailClient:
    """Hands messages to a backend and returns the backend's id for the request."""

    def send(self, email: Email) -> str:
        return self.send_batch(email, [email.recipient()])

    def send_batch(self, email: Email, recipients: list[Recipient]) -> str:
        """One message to each recipient, in one request where the backend allows."""
        raise NotImplementedError


class FileMailClient(MailClient):
    def __init__(self, directory: str | Path, sender: str):
        self.directory = Path(directory)
        self.sender = sender

    def send_batch(self, email: Email, recipients: list[Recipient]) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        batch = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        for n, recipient in enumerate(recipients):
            name = f"{batch}.eml" if len(recipients) == 1 else f"{batch}-{n:04d}.eml"
            path = self.directory / name
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(self._message(email, recipient).as_bytes())
            tmp.replace(path)  # readers never see half a message
        return f"{batch}.eml" if len(recipients) == 1 else batch

    def _message(self, email: Email, recipient: Recipient) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient.email
        message["Subject"] = email.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        if email.reply_to:
            message["Reply-To"] = email.reply_to
        headers = {**email.headers, **recipient.headers}
        headers.setdefault("Message-ID", make_msgid(domain="outbox.local"))
        for key, value in headers.items():
            message[key] = value
        for key, value in {**email.custom_args, **recipient.custom_args}.items():
            message[f"X-Custom-{key}"] = value
        message.set_content(email.text)
        if email.html:
            message.add_alternative(email.html, subtype="html")
        for attachment in email.attachments:
            maintype, subtype = attachment.mimetype.split("/", 1)
            message.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        return message


def _seconds_to_wait(exc: HTTPError) -> float | None:
    """What the provider asked for: Retry-After (seconds) or X-RateLimit-Reset (epoch)."""
    headers = getattr(exc, "headers", None) or {}
    try:
        if value := headers.get("Retry-After"):
            return max(float(value), 0.0)
        if value := headers.get("X-RateLimit-Reset"):
            return max(float(value) - time.time(), 0.0)
    except ValueError:
        return None
    return None


def _provider_error(exc: HTTPError) -> str:
    """SendGrid's own words, e.g. "The to array is required" (its errors[].message)."""
    try:
        errors = exc.to_dict.get("errors") or []
        words = "; ".join(e.get("message", "") for e in errors if e.get("message"))
    except (ValueError, AttributeError, TypeError):
        words = ""
    return words or (exc.body.decode(errors="replace")[:300] if exc.body else "no details")


class SendGridClient(MailClient):
    """SendGrid v3 Mail Send through the `sendgrid` library; failures become typed errors."""

    def __init__(
        self,
        api_key: str,
        sender: str,
        host: str = "https://api.sendgrid.com",
        timeout: float = 30.0,
    ):
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.sender = sender
        self.timeout = timeout

    def request_body(self, email: Email, recipients: list[Recipient]) -> dict:
        """The v3 JSON: one personalization per recipient (at most 1,000 a request)."""
        if not 1 <= len(recipients) <= 1000:
            raise ValueError("SendGrid takes 1 to 1,000 personalizations a request.")
        mail = Mail(
            from_email=self.sender,
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        if email.reply_to:
            mail.reply_to = ReplyTo(email.reply_to)
        for key, value in email.headers.items():
            mail.add_header(Header(key, value))
        for key, value in email.custom_args.items():
            mail.add_custom_arg(CustomArg(key, value))
        for n, recipient in enumerate(recipients):
            personalization = Personalization()
            personalization.add_to(To(recipient.email))
            for key, value in recipient.headers.items():
                personalization.add_header(Header(key, value))
            for key, value in recipient.custom_args.items():
                personalization.add_custom_arg(CustomArg(key, value))
            mail.add_personalization(personalization, index=n)  # in order (default: first)
        for attachment in email.attachments:
            mail.add_attachment(
                SgAttachment(
                    FileContent(base64.b64encode(attachment.content).decode()),
                    FileName(attachment.filename),
                    FileType(attachment.mimetype),
                    Disposition("attachment"),
                )
            )
        return mail.get()

    def send_batch(self, email: Email, recipients: list[Recipient]) -> str:
        body = self.request_body(email, recipients)
        try:
            response = self.client.client.mail.send.post(request_body=body, timeout=self.timeout)
        except HTTPError as exc:
            status = getattr(exc, "status_code", 0)
            if status == 429 or status >= 500:
                raise RetryableMailError(
                    f"SendGrid answered {status}", retry_after=_seconds_to_wait(exc)
                ) from exc
            raise PermanentMailError(f"SendGrid answered {status}: {_provider_error(exc)}") from exc
        except urllib.error.URLError as exc:  # refused, no DNS, connect timeout: not sent
            raise RetryableMailError(f"SendGrid could not be reached: {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:  # sent, then no answer
            raise UncertainMailError(f"SendGrid did not answer: {exc!r}") from exc
        return response.headers.get("X-Message-Id", "") or ""


def mail_client() -> MailClient:
    """The backend the configuration chooses."""
    config = current_app.config
    if config["SENDGRID_API_KEY"]:
        return SendGridClient(
            config["SENDGRID_API_KEY"],
            config["MAIL_FROM"],
            config["SENDGRID_API_HOST"],
            timeout=config.get("SENDGRID_TIMEOUT", 30.0),
        )
    return FileMailClient(config["OUTBOX_DIR"], config["MAIL_FROM"])

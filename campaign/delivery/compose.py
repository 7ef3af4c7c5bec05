"""What each message says: the letter as an email (HTML and text), its PDF
attached, reply-to the association, a stable Message-ID, our message id (and
nothing personal) in custom_args, and for parents the unsubscribe headers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from campaign.delivery.models import Message, email_hash
from campaign.letters.emails import EmailBody, email_body
from campaign.letters.models import RecipientKind
from campaign.letters.outputs import file_name
from campaign.mail import Attachment, Email, Recipient

PER_REQUEST = 1000  # SendGrid's limit of personalizations a request

FORWARD_NOTE = (
    "{school} signed the joint statement of {association}. Here is your school's "
    "letter to parents, in this email and as the attached PDF.\n\n"
    "Please forward it to your parents and carers by your usual channel (your "
    "newsletter or parent app), or print it. It already names your school and you as "
    "the signatory."
)


@dataclass
class Batch:
    """One request to the provider: an email and the messages it carries."""

    email: Email | None
    recipients: list[Recipient]
    messages: list[Message]
    # Parents' addresses are erased once they are sent.
    erase_addresses: bool = False
    # Why the messages could not be composed (then there is no email to send).
    error: str = ""


def message_id_header(message: Message) -> str:
    """The same Message-ID however often the message is composed."""
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2] or "campaign.invalid"
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:24]
    return f"<{digest}.{message.id}@{domain}>"


def _unsubscribe_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(address: str) -> str:
    """A link token naming the address only by its hash, signed so it cannot be forged."""
    return _unsubscribe_signer().dumps(email_hash(address))


def read_unsubscribe_token(token: str) -> str | None:
    """The address hash a token names, or None if it was not made by us."""
    try:
        value = _unsubscribe_signer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) and len(value) == 64 else None


def _unsubscribe_headers(address: str, reply_to: str) -> dict[str, str]:
    # Built by hand: workers have no request to build URLs from.
    link = f"{current_app.config['BASE_URL']}/unsubscribe/{unsubscribe_token(address)}"
    return {
        "List-Unsubscribe": f"<{link}>, <mailto:{reply_to}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _pdf(message: Message) -> Attachment:
    return Attachment(file_name(message.letter), message.letter.pdf, "application/pdf")


def _email(message: Message, body: EmailBody, reply_to: str, subject: str) -> Email:
    return Email(
        to=message.to_address,
        subject=subject,
        text=body.text,
        html=body.html,
        reply_to=reply_to or None,
        attachments=[_pdf(message)],
    )


def _recipient(message: Message, extra: dict[str, str] | None = None) -> Recipient:
    headers = {"Message-ID": message_id_header(message), **(extra or {})}
    return Recipient(message.to_address, {"message_id": str(message.id)}, headers)


def _single(message: Message, reply_to: str) -> Batch:
    if message.kind is RecipientKind.PARENT:
        return next(_parents([message], reply_to))
    letter = message.letter
    title = letter.merge["campaign_title"]
    if message.kind is RecipientKind.SCHOOL:
        note = FORWARD_NOTE.format(
            school=letter.recipient_name, association=letter.merge["association"]["name"]
        )
        body, subject = email_body(letter, preface=note), f"For your parents: {title}"
    else:
        body, subject = email_body(letter), title
    return Batch(_email(message, body, reply_to, subject), [_recipient(message)], [message])


def _parents(group: list[Message], reply_to: str) -> Iterator[Batch]:
    letter = group[0].letter
    body = email_body(letter)
    for start in range(0, len(group), PER_REQUEST):
        chunk = group[start : start + PER_REQUEST]
        recipients = [_recipient(m, _unsubscribe_headers(m.to_address, reply_to)) for m in chunk]
        email = _email(chunk[0], body, reply_to, letter.merge["campaign_title"])
        yield Batch(email, recipients, chunk, erase_addresses=True)


def compose(messages: list[Message], association_email: str) -> Iterator[Batch]:
    """Requests for these messages, made one by one so the first can be sent while
    the rest are composed: one each to MPs and heads; one per school for its parents,
    up to 1,000 in a request (each alone once a shared request was refused). A message
    that cannot be composed comes back as a batch with an error, not an exception."""
    reply_to = association_email or current_app.config["MAIL_FROM"]
    parents: dict[int, list[Message]] = {}
    for message in messages:
        if message.kind is RecipientKind.PARENT and not message.alone:
            parents.setdefault(message.letter_id, []).append(message)
            continue
        try:
            yield _single(message, reply_to)
        except Exception as exc:  # a broken letter fails its own message only
            yield Batch(None, [], [message], error=f"Could not be composed: {exc!r}")
    for group in parents.values():
        try:
            yield from _parents(group, reply_to)
        except Exception as exc:
            yield Batch(None, [], group, error=f"Could not be composed: {exc!r}")

"""Emails to heads about a consultation, each sent at most once per key."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campaign.auth.services import issue_sign_in_link
from campaign.consultation.models import Notice
from campaign.directory.models import User
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.formatting import when
from campaign.mail import Email, mail_client


def respond_path(campaign: Campaign) -> str:
    return f"/a/{campaign.association.slug}/campaigns/{campaign.slug}/respond"


def send_once(key: str, user: User, subject: str, body: str) -> bool:
    """Send the email unless one with this key was sent already. Commits."""
    if db.session.scalar(select(Notice.id).where(Notice.key == key)):
        return False
    db.session.add(Notice(key=key, user_id=user.id))
    try:
        db.session.flush()  # a concurrent sender with the same key stops here
    except IntegrityError:
        db.session.rollback()
        return False
    mail_client().send(Email(to=user.email, subject=subject, text=body))
    db.session.commit()
    return True


def _deadline(campaign: Campaign) -> str:
    if campaign.consultation_deadline is None:
        return "The consultation is open until the lead closes it."
    return f"The consultation closes on {when(campaign.consultation_deadline)}."


def invite(campaign: Campaign, user: User, key: str, *, reminder: bool = False) -> bool:
    """A personal link to the current version, for every school the head leads."""
    link = issue_sign_in_link(user, next_path=respond_path(campaign))
    minutes = current_app.config["LOGIN_TOKEN_MINUTES"]
    version = campaign.current_version
    opening = (
        "This is a reminder: we have not yet heard from your school."
        if reminder
        else f"{campaign.association.name} is consulting its members on a joint statement."
    )
    body = (
        f"{user.greeting}\n\n{opening}\n\n"
        f"  {campaign.title} (version {version.number})\n\n"
        f"{campaign.summary}\n\n"
        "Read it, tell us whether your school agrees, comment on any paragraph and "
        "answer a few questions here:\n\n"
        f"{link}\n\n"
        f"The link signs you in once, within {minutes} minutes; after that, ask for a "
        f"new one at {current_app.config['BASE_URL']}/sign-in.\n\n{_deadline(campaign)}\n"
    )
    subject = ("Reminder: " if reminder else "Consultation: ") + campaign.title
    return send_once(key, user, subject, body)


def amendment_decided(campaign: Campaign, user: User, key: str, summary: str) -> bool:
    link = f"{current_app.config['BASE_URL']}{respond_path(campaign)}"
    body = (
        f"{user.greeting}\n\n{summary}\n\nSee the current text: {link}\n\n{_deadline(campaign)}\n"
    )
    return send_once(key, user, f"Statement updated: {campaign.title}", body)

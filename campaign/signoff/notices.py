"""Emails for sign-off: invitations with a link that signs the head in, chasers,
and news that signatures were voided. Each sent at most once per key."""

from __future__ import annotations

from flask import current_app

from campaign.auth.services import issue_sign_in_link
from campaign.consultation.notices import send_once
from campaign.directory.models import User
from campaign.directory.services import dao_schools_led_by
from campaign.drafting.models import Campaign
from campaign.formatting import when


def sign_path(campaign: Campaign) -> str:
    return f"/a/{campaign.association.slug}/campaigns/{campaign.slug}/sign"


def invitation_path(campaign: Campaign, user: User) -> str:
    """Where an invitation's link lands: a head of one school (nearly every head) on
    its sign page, one request fewer at the surge than /sign's redirect; a head of
    several at /sign, to choose."""
    schools = dao_schools_led_by(campaign.association_id, user.id)
    return sign_path(campaign) + (f"/{schools[0].urn}" if len(schools) == 1 else "")


def invite(campaign: Campaign, user: User, key: str, *, chaser: bool = False) -> bool:
    link = issue_sign_in_link(user, next_path=invitation_path(campaign, user))
    minutes = current_app.config["LOGIN_TOKEN_MINUTES"]
    deadline = (
        f"Sign-off closes on {when(campaign.signoff_deadline)}."
        if campaign.signoff_deadline
        else "Sign-off stays open until the lead closes it."
    )
    opening = (
        "We have not yet had your school's answer on the joint statement below."
        if chaser
        else f"The joint statement of {campaign.association.name} is final and ready to sign."
    )
    body = (
        f"{user.greeting}\n\n{opening}\n\n  {campaign.title}\n\n"
        "Read it and sign (or decline) for your school here; it takes under a minute:\n\n"
        f"{link}\n\n"
        f"The link signs you in once, within {minutes} minutes; after that, ask for a new "
        f"one at {current_app.config['BASE_URL']}/sign-in.\n\n{deadline}\n"
    )
    subject = ("Reminder: please sign " if chaser else "Please sign: ") + campaign.title
    return send_once(key, user, subject, body)


def voided(campaign: Campaign, user: User, key: str) -> bool:
    body = (
        f"{user.greeting}\n\nThe lead of {campaign.association.name} has reopened the consultation "
        f'on "{campaign.title}" to change the text. The signatures collected so far, '
        "including your school's, no longer count. You will be asked to sign the new text "
        "when it is final.\n"
    )
    return send_once(key, user, f"Signatures voided: {campaign.title}", body)

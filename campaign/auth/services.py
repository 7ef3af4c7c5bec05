"""Passwordless sign-in: single-use, short-lived links whose secret is never stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from campaign.auth.models import LoginToken
from campaign.directory.models import User
from campaign.extensions import db
from campaign.mail import Email, mail_client


def safe_next(path: str | None) -> str:
    """A path inside this app to return to after signing in, or "" (no open redirects)."""
    path = (path or "").strip()
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 500:
        return ""
    return path


def save_details(user: User, name: str, job_title: str) -> None:
    """Save a person's name and role (what letters sign with) and commit."""
    user.name = name.strip()
    user.job_title = job_title.strip()
    db.session.commit()


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_sign_in_link(user: User, next_path: str = "") -> str:
    """Create a sign-in token for the user and return the full link. The caller commits."""
    raw = secrets.token_urlsafe(32)
    minutes = current_app.config["LOGIN_TOKEN_MINUTES"]
    db.session.add(
        LoginToken(
            token_hash=token_hash(raw),
            user=user,
            next_path=safe_next(next_path),
            expires=datetime.now(UTC) + timedelta(minutes=minutes),
        )
    )
    return f"{current_app.config['BASE_URL']}/sign-in/{raw}"


def send_sign_in_link(email: str, next_path: str = "") -> bool:
    """Email a sign-in link if the address belongs to a user; say nothing either way."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return False
    link = issue_sign_in_link(user, next_path)
    db.session.commit()
    minutes = current_app.config["LOGIN_TOKEN_MINUTES"]
    mail_client().send(
        Email(
            to=user.email,
            subject="Your sign-in link",
            text=(
                f"{user.greeting}\n\nUse this link to sign in. It works once, "
                f"for the next {minutes} minutes:\n\n{link}\n\n"
                "If you did not ask for it, you can ignore this email."
            ),
        )
    )
    return True


def usable_token(raw: str) -> LoginToken | None:
    """The token for a link if it can still be used (not used, not expired)."""
    token = db.session.scalar(select(LoginToken).where(LoginToken.token_hash == token_hash(raw)))
    return token if token and token.usable() else None


def consume_token(raw: str) -> LoginToken | None:
    """Mark the link used and return its token, or None if it was used or expired meanwhile.

    One conditional UPDATE, so two clicks at once cannot both sign in.
    """
    now = datetime.now(UTC)
    result = db.session.execute(
        update(LoginToken)
        .where(
            LoginToken.token_hash == token_hash(raw),
            LoginToken.used.is_(None),
            LoginToken.expires > now,
        )
        .values(used=now)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.scalar(select(LoginToken).where(LoginToken.token_hash == token_hash(raw)))

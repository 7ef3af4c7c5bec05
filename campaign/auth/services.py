"""Passwordless sign-in: single-use, short-lived links whose secret is never stored."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import func, select, update

from campaign.auth.models import LoginToken
from campaign.directory.models import User
from campaign.directory.services import dao_user
from campaign.extensions import db
from campaign.mail import Email, mail_client

MAX_NEXT = 500  # LoginToken.next_path's column


def safe_next(path: str | None) -> str:
    """A path on this site to return to after signing in, or "" (no open redirects).

    Refused: anything not starting with one "/", a backslash, a space, a control or
    invisible character, non-ASCII, or any of these once percent-decoded (browsers
    decode some escapes and drop tabs and newlines before they read a Location).
    """
    if not path or len(path) > MAX_NEXT or not (path.isascii() and _is_local(path)):
        return ""
    if " " in path:
        return ""
    seen = path
    for _ in range(3):  # "%252F" is "%2F" once decoded and "/" twice
        decoded = unquote(seen)
        if decoded == seen:
            return path
        if not _is_local(decoded):
            return ""
        seen = decoded
    return ""  # still escaped after three rounds: no real page needs that


def _is_local(path: str) -> bool:
    if not path.startswith("/") or path[1:2] in ("/", "\\") or "\\" in path:
        return False
    if any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in path):
        return False  # control, format (zero-width, bidi), separators other than a space
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


def save_details(user: User, name: str, job_title: str) -> None:
    """Save a person's name and role (what letters sign with) and commit.

    From now on no association's roster changes this person's name."""
    user.name = name.strip()
    user.job_title = job_title.strip()
    user.details_saved = datetime.now(UTC)
    db.session.commit()


def start_session(user: User) -> None:
    """Sign the person in on a fresh session: nothing from before (a planted
    cookie, an old CSRF token) carries over, and it holds their session version."""
    session.clear()
    login_user(user)
    session["session_version"] = user.session_version


def end_sessions(user: User) -> None:
    """Sign out here and everywhere: every session holding the old version stops working."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    db.session.commit()
    logout_user()
    session.clear()


def load_session_user(user_id: str) -> User | None:
    """The signed-in user of this session, or None if it was ended by signing out."""
    user = dao_user(int(user_id))
    if user is None or session.get("session_version") != user.session_version:
        return None
    return user


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


# Anyone can ask for a link for any address, so what is limited is what the address
# receives: while it holds this many links that still work, asking again (whoever
# asks) sends nothing more and is answered the same. The person is never locked
# out: they already hold a working link.
MAX_LIVE_LINKS = 5


def dao_live_links(user_id: int) -> int:
    """How many of the user's sign-in links are unused and unexpired."""
    return db.session.scalar(
        select(func.count(LoginToken.id)).where(
            LoginToken.user_id == user_id,
            LoginToken.used.is_(None),
            LoginToken.expires > datetime.now(UTC),
        )
    )


def send_sign_in_link(email: str, next_path: str = "") -> bool:
    """Email a sign-in link if the address belongs to a user and does not already
    hold MAX_LIVE_LINKS working ones; say nothing either way."""
    # Locked (on PostgreSQL) so two requests at once cannot both pass the count.
    user = db.session.scalar(
        select(User).where(User.email == email.strip().lower()).with_for_update()
    )
    if user is None:
        return False
    if dao_live_links(user.id) >= MAX_LIVE_LINKS:
        db.session.rollback()
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

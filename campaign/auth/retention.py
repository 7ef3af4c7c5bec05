"""Retention of sign-in links: a used or expired link is kept only as long as the
association's retention period, then deleted (`campaign retention`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select

from campaign.auth.models import LoginToken
from campaign.extensions import db


def _old_links(before: datetime):
    now = datetime.now(UTC)
    # A link still usable is never deleted, however old (it cannot be: links last minutes).
    return (
        LoginToken.created < before,
        or_(LoginToken.used.is_not(None), LoginToken.expires < now),
    )


def dao_old_sign_in_links_count(before: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginToken).where(*_old_links(before))
    )


def delete_old_sign_in_links(before: datetime) -> int:
    """Delete sign-in links made before `before` that are used or expired; how many.
    The caller commits."""
    count = dao_old_sign_in_links_count(before)
    db.session.execute(
        delete(LoginToken).where(*_old_links(before)),
        execution_options={"synchronize_session": False},
    )
    return count

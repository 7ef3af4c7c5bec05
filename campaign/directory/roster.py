"""Import of the association's own roster: who leads each member school, and their email."""

from __future__ import annotations

from collections.abc import Callable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from campaign.directory.csvfile import PROGRESS_EVERY, ImportSummary, column, read_rows
from campaign.directory.models import (
    Association,
    Headship,
    Membership,
    Role,
    School,
    SchoolMembership,
    User,
)
from campaign.extensions import db

REQUIRED = ["URN", "Email"]


def normalise_email(text: str) -> str:
    """The address as stored, or ValueError naming what is wrong with it."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def get_or_create_user(email: str, name: str = "") -> tuple[User, bool]:
    """The user with this (normalised) email, creating them if new."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user:
        return user, False
    user = User(email=email, name=name)
    db.session.add(user)
    db.session.flush()
    return user, True


def ensure_membership(user: User, association: Association, role: Role) -> Membership:
    """Give the user a role in the association unless they already have one."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.association_id == association.id
        )
    )
    if membership is None:
        membership = Membership(user=user, association=association, role=role)
        db.session.add(membership)
    return membership


def import_roster(
    association: Association, data: bytes, progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Create or update heads and their headships from a `URN, School, Head name, Email, Role` CSV.

    A row whose URN is not a member school, or whose email is invalid, is
    rejected with its line; the rest go in one transaction. The caller commits.
    """
    summary = ImportSummary()
    schools = {
        school.urn: school
        for school in db.session.scalars(
            select(School)
            .join(SchoolMembership)
            .where(SchoolMembership.association_id == association.id)
        )
    }
    rows = []
    for line, row in read_rows(data, REQUIRED, "an association roster (URN, Email columns)"):
        summary.read += 1
        if progress and summary.read % PROGRESS_EVERY == 0:
            progress(summary.read)
        urn_text = row["URN"]
        school = schools.get(int(urn_text)) if urn_text.isdigit() else None
        if school is None:
            summary.reject(line, f'URN "{urn_text}" is not a member school of {association.name}.')
            continue
        try:
            email = normalise_email(row["Email"])
        except ValueError as exc:
            summary.reject(line, f'Email "{row["Email"]}" is not valid: {exc}')
            continue
        rows.append((school, email, column(row, "Head name"), column(row, "Role")))

    # Load everything the rows touch up front: one query per kind, not per row.
    users = _users_by_email(association, {email for _, email, _, _ in rows})
    members = set(
        db.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.association_id == association.id)
        )
    )
    headships = {
        (email, headship.school_id): headship
        for email, headship in db.session.execute(
            select(User.email, Headship)
            .join(Headship, Headship.user_id == User.id)
            .where(Headship.association_id == association.id)
        )
    }
    for school, email, name, job_title in rows:
        user = users.get(email)
        changed = False
        if user is None:
            user = users[email] = User(email=email, name=name)
            db.session.add(user)
        elif name and user.name != name:
            user.name = name
            changed = True
        if email not in members:
            db.session.add(Membership(user=user, association=association, role=Role.HEAD))
            members.add(email)
        headship = headships.get((email, school.id))
        if headship is None:
            headships[(email, school.id)] = Headship(
                association_id=association.id, user=user, school=school, job_title=job_title
            )
            db.session.add(headships[(email, school.id)])
            summary.added += 1
            continue
        if headship.job_title != job_title:
            headship.job_title = job_title
            changed = True
        if changed:
            summary.updated += 1
        else:
            summary.unchanged += 1
    db.session.flush()
    return summary


def _users_by_email(association: Association, emails: set[str]) -> dict[str, User]:
    """The existing users among these emails: the association's own in one query,
    then anyone else (a head who is also in another association) in batches."""
    found = {
        user.email: user
        for user in db.session.scalars(
            select(User).join(Membership).where(Membership.association_id == association.id)
        )
        if user.email in emails
    }
    others = sorted(emails - found.keys())
    for start in range(0, len(others), 1000):
        batch = others[start : start + 1000]
        found.update(
            (u.email, u) for u in db.session.scalars(select(User).where(User.email.in_(batch)))
        )
    return found

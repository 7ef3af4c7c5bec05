"""Import of the association's own roster: who leads each member school, and their email.

A person's account (email, name) is shared by every association they belong
to, so a roster sets a name only on an account it creates, or on one that
belongs to this association alone and whose owner has never saved their own
details. Otherwise the person's own name stands: no association renames
someone another association knows, and nobody overrides what a person said
their name is. The role on the roster is the association's own (Headship).
"""

from __future__ import annotations

from collections.abc import Callable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from campaign.directory.csvfile import (
    PROGRESS_EVERY,
    ImportSummary,
    column,
    column_limits,
    read_rows,
    too_long,
    whole_number,
)
from campaign.directory.models import (
    Association,
    Headship,
    Membership,
    Role,
    School,
    User,
)
from campaign.directory.register import MAX_URN
from campaign.extensions import db

REQUIRED = ["URN", "Email"]
LABELS = {"name": "Head name", "job_title": "Role"}
LIMITS = {
    **column_limits(User.__table__, ["name"]),
    **column_limits(Headship.__table__, ["job_title"]),
}


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
    rejected with its line; the rest go in one transaction. An existing
    person's name changes only as the module docstring says; a row giving
    another name is imported with a note. The caller commits.
    """
    summary = ImportSummary()
    schools = {
        school.urn: school
        for school in db.session.scalars(
            select(School).where(School.association_id == association.id)
        )
    }
    rows = []
    what = "an association roster (URN, Email columns)"
    for line, row in read_rows(data, REQUIRED, what, summary):
        summary.read += 1
        if progress and summary.read % PROGRESS_EVERY == 0:
            progress(summary.read)
        urn_text = row["URN"]
        school = schools.get(whole_number(urn_text, MAX_URN) or 0)
        if school is None:
            summary.reject(
                line, f'URN "{urn_text[:20]}" is not a member school of {association.name}.'
            )
            continue
        try:
            email = normalise_email(row["Email"])
        except ValueError as exc:
            summary.reject(line, f'Email "{row["Email"][:80]}" is not valid: {exc}')
            continue
        given = {"name": column(row, "Head name"), "job_title": column(row, "Role")}
        if problem := too_long(given, LIMITS, LABELS):
            summary.reject(line, problem)
            continue
        rows.append((line, school, email, given["name"], given["job_title"]))

    # Load everything the rows touch up front: one query per kind, not per row.
    users = _users_by_email(association, {email for _, _, email, _, _ in rows})
    elsewhere = _members_elsewhere(association, [u.id for u in users.values()])
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
    for line, school, email, name, job_title in rows:
        user = users.get(email)
        changed = False
        if user is None:
            user = users[email] = User(email=email, name=name)
            db.session.add(user)
        elif name and user.name != name:
            if user.details_saved is None and user.id not in elsewhere:
                user.name = name
                changed = True
            else:
                summary.note(
                    line,
                    f"{email} keeps the name on their account: only they can change it, "
                    "on their Your details page.",
                )
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


def _members_elsewhere(association: Association, user_ids: list[int]) -> set[int]:
    """The users among these who also belong to another association."""
    found: set[int] = set()
    for start in range(0, len(user_ids), 1000):
        found.update(
            db.session.scalars(
                select(Membership.user_id).where(
                    Membership.user_id.in_(user_ids[start : start + 1000]),
                    Membership.association_id != association.id,
                )
            )
        )
    return found


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

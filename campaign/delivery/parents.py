"""Parents' lists: a school may upload its parents' email addresses so the letter
goes to them directly. The addresses are kept only until the send takes them;
then they are deleted and only the count stays."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from campaign.delivery.models import Message, ParentList
from campaign.directory.csvfile import ImportRefused, column, read_rows
from campaign.directory.models import School, User
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience

MAX_ADDRESSES = 10_000  # far above any school's parents; a bigger file is a mistake


def read_parent_list(data: bytes) -> list[str]:
    """The distinct addresses of a CSV with an Email column; refuses the whole file,
    naming the line, if any row is not an email address."""
    addresses: dict[str, str] = {}
    for line, row in read_rows(data, ["Email"], "a parents' list (a CSV with an Email column)"):
        raw = column(row, "Email")
        if not raw:
            continue
        try:
            address = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ImportRefused(f'Line {line}: "{raw[:80]}" is not an email address.') from None
        addresses.setdefault(address.lower(), address)
        if len(addresses) > MAX_ADDRESSES:
            raise ImportRefused(f"The list has more than {MAX_ADDRESSES:,} addresses.")
    if not addresses:
        raise ImportRefused("The list has no email addresses.")
    return list(addresses.values())


def dao_parent_list(campaign_id: int, school_id: int) -> ParentList | None:
    return db.session.scalar(
        select(ParentList).where(
            ParentList.campaign_id == campaign_id, ParentList.school_id == school_id
        )
    )


def dao_parents_sent(campaign_id: int) -> bool:
    """Whether the parents' letters are in the outbox (then no list can be added)."""
    return (
        db.session.scalar(
            select(Message.id)
            .where(Message.campaign_id == campaign_id, Message.audience == Audience.PARENTS)
            .limit(1)
        )
        is not None
    )


def save_parent_list(campaign: Campaign, school: School, by: User, data: bytes) -> ParentList:
    """Replace the school's list for this campaign (nothing is saved if the file is
    refused). The caller commits."""
    addresses = read_parent_list(data)
    found = dao_parent_list(campaign.id, school.id)
    if found is None:
        found = ParentList(campaign_id=campaign.id, school_id=school.id)
        db.session.add(found)
    found.emails, found.count, found.erased = addresses, len(addresses), None
    found.uploaded_by_id = by.id
    return found

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

# Far above any school's parents: a bigger list is a mistake. The bounds hold
# before any address is checked, so the worst list allowed is read in a second
# or so (README, "Parents' lists"); the route refuses a larger post unread.
MAX_ADDRESSES = 10_000  # distinct addresses
MAX_ROWS = 20_000  # every row, repeats included
MAX_LIST_BYTES = 5 * 1024 * 1024


def read_parent_list(data: bytes) -> list[str]:
    """The distinct addresses of a CSV with an Email column; refuses the whole file,
    naming the line, if any row is not an email address, and a file over the bounds
    (bytes, rows, distinct addresses) before checking any address."""
    if len(data) > MAX_LIST_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_LIST_BYTES // (1024 * 1024)} MB.")
    # Each address once, at its first line: a list repeating one address is checked once.
    first_seen: dict[str, tuple[int, str]] = {}
    rows = read_rows(data, ["Email"], "a parents' list (a CSV with an Email column)")
    for count, (line, row) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise ImportRefused(f"The list has more than {MAX_ROWS:,} rows.")
        if raw := column(row, "Email"):
            first_seen.setdefault(raw.lower(), (line, raw))
            if len(first_seen) > MAX_ADDRESSES:
                raise ImportRefused(f"The list has more than {MAX_ADDRESSES:,} addresses.")
    addresses: dict[str, str] = {}
    for line, raw in first_seen.values():
        try:
            address = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ImportRefused(f'Line {line}: "{raw[:80]}" is not an email address.') from None
        addresses.setdefault(address.lower(), address)
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

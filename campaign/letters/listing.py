"""The letters page's lists: totals counted in SQL and one page of letters at a time,
read without their PDFs or merge data, however many letters an audience has."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Text, case, cast, func, or_, select
from sqlalchemy.orm import load_only

from campaign.extensions import db
from campaign.letters.models import Audience, Letter
from campaign.paging import Page, paginate

FAILING_SHOWN = 5  # failing letters named above the table; the table has them all

# What a list of letters shows: never the PDF, never the merge data.
_LISTED = load_only(Letter.id, Letter.recipient_name, Letter.pages, Letter.problems)


@dataclass
class Totals:
    letters: int
    pages: int
    failing: int
    unchecked: int

    @property
    def ready(self) -> int:
        return self.letters - self.failing - self.unchecked


def _unchecked():
    # None is stored as SQL NULL or as JSON null, depending on how it was set.
    return or_(Letter.problems.is_(None), cast(Letter.problems, Text) == "null")


def _passed():
    return cast(Letter.problems, Text) == "[]"


def _of(campaign_id: int, audience: Audience):
    return (Letter.campaign_id == campaign_id, Letter.audience == audience)


def dao_totals(campaign_id: int, audience: Audience) -> Totals:
    """The audience's letters, pages, failing and unchecked letters: one query."""
    unchecked = case((_unchecked(), 1), else_=0)
    failing = case((_unchecked(), 0), (_passed(), 0), else_=1)
    letters, pages, failed, waiting = db.session.execute(
        select(
            func.count(Letter.id),
            func.coalesce(func.sum(Letter.pages), 0),
            func.coalesce(func.sum(failing), 0),
            func.coalesce(func.sum(unchecked), 0),
        ).where(*_of(campaign_id, audience))
    ).one()
    return Totals(letters, int(pages), int(failed), int(waiting))


def dao_failing_first(
    campaign_id: int, audience: Audience, limit: int = FAILING_SHOWN
) -> list[Letter]:
    """The first few letters that failed their check, by recipient name."""
    return list(
        db.session.scalars(
            select(Letter)
            .where(*_of(campaign_id, audience), ~_unchecked(), ~_passed())
            .options(_LISTED)
            .order_by(Letter.recipient_name, Letter.id)
            .limit(limit)
        )
    )


def dao_letter_page(
    campaign_id: int, audience: Audience, *, query: str = "", page: int = 1
) -> Page[Letter]:
    """One page of the audience's letters by recipient name, only those whose
    recipient's name holds `query` if it is given."""
    stmt = select(Letter).where(*_of(campaign_id, audience))
    if query.strip():
        stmt = stmt.where(func.lower(Letter.recipient_name).like(f"%{query.strip().lower()}%"))
    stmt = stmt.options(_LISTED).order_by(Letter.recipient_name, Letter.id)
    return Page(*paginate(stmt, page))

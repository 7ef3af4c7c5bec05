"""One page of a long list: a count and a LIMIT/OFFSET query, whatever the list's length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from campaign.extensions import db

Row = TypeVar("Row")

PER_PAGE = 100  # rows on a page of any long list


@dataclass
class Page(Generic[Row]):
    rows: list[Row]
    total: int
    page: int  # 1-based, within 1..pages
    pages: int


def paginate(stmt: Select, page: int, per_page: int | None = None) -> tuple[list, int, int, int]:
    """The rows of `stmt` (already ordered) on `page`, which is clamped to the pages
    there are, PER_PAGE to a page unless `per_page` says; returns (rows, total, page, pages)."""
    per_page = per_page or PER_PAGE
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, -(-(total or 0) // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total or 0, page, pages

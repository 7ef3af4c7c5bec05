"""Rows written as a migration's revision saw them: plain SQL, no models."""

from __future__ import annotations

import sqlalchemy as sa


def insert_row(conn, table: str, **values) -> int:
    row = sa.table(table, *(sa.column(k) for k in ["id", *values]))
    return conn.execute(sa.insert(row).values(**values).returning(row.c.id)).scalar_one()


def insert_campaign(conn, slug: str = "c", state: str = "closed") -> int:
    """A campaign of a new association, as every revision since the first has them."""
    association = insert_row(conn, "association", slug=f"a-{slug}", name="A")
    return insert_row(
        conn, "campaign", association_id=association, slug=slug, title=slug.title(),
        summary="", to_parents=True, to_mps=True, state=state,
    )  # fmt: skip

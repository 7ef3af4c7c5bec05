"""Rows written as a migration's revision saw them: plain SQL, no models."""

from __future__ import annotations

import sqlalchemy as sa


def insert_row(conn, table: str, **values) -> int:
    row = sa.table(table, *(sa.column(k) for k in ["id", *values]))
    return conn.execute(sa.insert(row).values(**values).returning(row.c.id)).scalar_one()

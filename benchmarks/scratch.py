"""A scratch PostgreSQL schema for a benchmark run, dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def scratch_schema(database_url: str) -> Iterator[str]:
    """Yield a URL whose connections use a fresh schema; drop the schema at the end."""
    base = sa.make_url(database_url)
    schema = f"bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

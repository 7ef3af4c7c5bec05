"""A scratch database for each migration test."""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa

from tests.conftest import _backends


@pytest.fixture(params=_backends())
def scratch_url(request, tmp_path):
    """An empty database of its own (a SQLite file, or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    base = sa.make_url(os.environ["TEST_DATABASE_URL"])
    schema = f"test_migrate_{secrets.token_hex(6)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

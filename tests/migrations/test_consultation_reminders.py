"""The migration that records consultation reminders: the table is made, keeps one
row per press, and goes again on the way down."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from campaign import create_app
from campaign.extensions import db
from tests.conftest import _config
from tests.migrations.rows import insert_row

REVISION = "0ffdb8093aad"
BEFORE = "b7e1c0a5d2f3"


def test_reminders_table_comes_and_goes(scratch_url):
    app = create_app(_config(scratch_url))
    with app.app_context():
        upgrade(revision=BEFORE)
        assert "reminder" not in sa.inspect(db.engine).get_table_names()
        upgrade(revision=REVISION)
        with db.engine.begin() as conn:
            association = insert_row(conn, "association", slug="a", name="A")
            campaign = insert_row(
                conn, "campaign", association_id=association, slug="c", title="C",
                summary="", to_parents=True, to_mps=True, state="consultation",
            )  # fmt: skip
            insert_row(
                conn, "reminder", campaign_id=campaign, batch="press-1", la="", constituency="",
                heads=79,
            )  # fmt: skip
        with db.engine.connect() as conn:
            [(heads, created)] = conn.execute(sa.text("SELECT heads, created FROM reminder")).all()
        assert heads == 79 and created is not None  # stamped by the database
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            insert_row(
                conn, "reminder", campaign_id=campaign, batch="press-1", la="", constituency="",
                heads=79,
            )  # fmt: skip
        downgrade(revision=BEFORE)
        assert "reminder" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        db.engine.dispose()

"""The migration that adds print packs: one per campaign, audience and kind, and
never ready without its files in the letter store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from campaign import create_app
from campaign.extensions import db
from tests.conftest import _config
from tests.migrations.rows import insert_campaign, insert_row

REVISION = "36b7c8a47c38"
BEFORE = "c8824ab0286f"


def _pack(conn, campaign_id: int, **values) -> int:
    row = {
        "campaign_id": campaign_id, "audience": "mps", "kind": "letters", "state": "queued",
        "token": "t", "letter_ids": "[]", "total": 0, "done": 0,
        "requested": datetime(2026, 12, 3, 9, tzinfo=UTC), "sources": "", "key": "",
        "manifest_key": "", "letters": 0, "pages": 0, "error": "",
    }  # fmt: skip
    return insert_row(conn, "print_pack", **(row | values))


def test_a_pack_is_one_per_campaign_audience_and_kind_and_ready_only_when_stored(scratch_url):
    app = create_app(_config(scratch_url))
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            campaign = insert_campaign(conn)
        upgrade(revision=REVISION)
        with db.engine.begin() as conn:
            _pack(conn, campaign)
            _pack(conn, campaign, kind="post", state="ready", key="k", manifest_key="m",
                  sources="s")  # fmt: skip
        for refused in ({"audience": "mps"}, {"audience": "parents", "state": "ready"}):
            with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
                _pack(conn, campaign, **refused)
        downgrade(revision=BEFORE)
        assert "print_pack" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        db.engine.dispose()

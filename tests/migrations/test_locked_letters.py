"""The migration that records which audiences' letters are locked: every audience
already in the outbox is locked from its first message, and no other."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from campaign import create_app
from campaign.extensions import db
from tests.conftest import _config
from tests.migrations.rows import insert_row

REVISION = "b7e1c0a5d2f3"
BEFORE = "4f40d184c63a"


def _message(conn, campaign_id: int, audience: str, n: int, created: datetime) -> None:
    insert_row(
        conn, "message", campaign_id=campaign_id, audience=audience, channel="email",
        recipient=f"school:{n}", idempotency_key=f"{campaign_id}:{audience}:{n}",
        to_name="", to_address="", note="", state="sent", attempts=1, provider_id="",
        last_error="", created=created,
    )  # fmt: skip


def test_audiences_in_the_outbox_are_locked_and_the_others_not(scratch_url):
    app = create_app(_config(scratch_url))
    first, later = datetime(2026, 3, 1, 9, tzinfo=UTC), datetime(2026, 3, 2, 9, tzinfo=UTC)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            association = insert_row(conn, "association", slug="a", name="A")
            campaigns = [
                insert_row(
                    conn, "campaign", association_id=association, slug=slug, title=slug,
                    summary="", to_parents=True, to_mps=True, state=state,
                )
                for slug, state in (("sent", "sent"), ("closed", "closed"))
            ]  # fmt: skip
            _message(conn, campaigns[0], "mps", 1, later)
            _message(conn, campaigns[0], "mps", 2, first)
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT campaign_id, audience, locked FROM locked_letters")
            ).all()
        assert [(c, a) for c, a, _ in rows] == [(campaigns[0], "mps")]
        assert str(rows[0][2])[:16] == "2026-03-01 09:00"
        downgrade(revision=BEFORE)
        assert "locked_letters" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        db.engine.dispose()

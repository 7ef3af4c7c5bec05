"""The migration that moves letter PDFs off the database row: each PDF lands in the
letter store under its SHA-256, the column goes, and the way down brings them back."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from campaign import create_app
from campaign.extensions import db
from campaign.letters.store import letter_store
from tests.conftest import _config
from tests.migrations.rows import insert_campaign, insert_row

REVISION = "5e2c9a7d41b8"
BEFORE = "0ffdb8093aad"


def test_pdfs_move_to_the_store_and_back(scratch_url):
    app = create_app(_config(scratch_url))
    pdfs = [f"%PDF-1.7 letter {n} ".encode() * 50 for n in range(450)]  # more than one batch
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            campaign = insert_campaign(conn)
            ids = [
                insert_row(
                    conn, "letter", campaign_id=campaign, audience="parents",
                    recipient=f"school:{n}", recipient_name=f"School {n}", merge=json.dumps({}),
                    merge_sha256="0" * 64, pdf=pdf, pages=1,
                    # A hash that is not the bytes' own: the store's key wins.
                    sha256="f" * 64 if n == 0 else hashlib.sha256(pdf).hexdigest(),
                    rendered=datetime(2026, 3, 1, tzinfo=UTC),
                )
                for n, pdf in enumerate(pdfs)
            ]  # fmt: skip
        upgrade(revision=REVISION)
        assert "pdf" not in {c["name"] for c in sa.inspect(db.engine).get_columns("letter")}
        with db.engine.connect() as conn:
            keys = dict(conn.execute(sa.text("SELECT id, sha256 FROM letter")).all())
        store = letter_store()
        assert [store.get(keys[i]) for i in ids] == pdfs
        assert keys[ids[0]] == hashlib.sha256(pdfs[0]).hexdigest()

        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            back = dict(conn.execute(sa.text("SELECT id, pdf FROM letter")).all())
        assert [bytes(back[i]) for i in ids] == pdfs
        upgrade()
        db.engine.dispose()

"""letter PDFs off the database row, into the letter store

Revision ID: 5e2c9a7d41b8
Revises: 0ffdb8093aad
Create Date: 2026-12-03 07:20:00.000000

Each letter's PDF is written to the letter store (LETTER_STORE: a folder under
instance/, or an S3 bucket) under the SHA-256 of its bytes, a few hundred rows at
a time, before the column goes; the way down reads them back.
"""
from alembic import op
import sqlalchemy as sa

from campaign.letters.store import letter_store


# revision identifiers, used by Alembic.
revision = '5e2c9a7d41b8'
down_revision = '0ffdb8093aad'
branch_labels = None
depends_on = None

BATCH = 200
letter = sa.table(
    "letter", sa.column("id", sa.Integer), sa.column("pdf", sa.LargeBinary),
    sa.column("sha256", sa.String),
)


def _batches(conn, *columns):
    last = 0
    while rows := conn.execute(
        sa.select(letter.c.id, *columns).where(letter.c.id > last)
        .order_by(letter.c.id).limit(BATCH)
    ).all():
        yield rows
        last = rows[-1].id


def upgrade():
    conn, store = op.get_bind(), letter_store()
    for rows in _batches(conn, letter.c.pdf):
        for row in rows:
            key = store.put(row.pdf)
            conn.execute(letter.update().where(letter.c.id == row.id).values(sha256=key))
    with op.batch_alter_table("letter") as batch_op:
        batch_op.drop_column("pdf")


def downgrade():
    with op.batch_alter_table("letter") as batch_op:
        batch_op.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))
    conn, store = op.get_bind(), letter_store()
    for rows in _batches(conn, letter.c.sha256):
        for row in rows:
            pdf = store.get(row.sha256) if row.sha256 else b""
            conn.execute(letter.update().where(letter.c.id == row.id).values(pdf=pdf))
    with op.batch_alter_table("letter") as batch_op:
        batch_op.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=False)

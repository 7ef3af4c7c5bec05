"""print packs built by a worker into the letter store

Revision ID: 36b7c8a47c38
Revises: c8824ab0286f
Create Date: 2026-12-03 13:39:00.763159

A print pack is built by a worker into the letter store (campaign/letters/packs.py);
a new table, so nothing to move.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '36b7c8a47c38'
down_revision = 'c8824ab0286f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('print_pack',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('parents', 'mps', name='audience', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('kind', sa.Enum('letters', 'post', name='packkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('state', sa.Enum('queued', 'building', 'ready', 'failed', name='packstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('letter_ids', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('requested', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sources', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('manifest_key', sa.String(length=64), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.CheckConstraint("state != 'ready' OR (key != '' AND manifest_key != '' AND sources != '')", name=op.f('ck_print_pack_ready_is_stored')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_print_pack_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_pack')),
    sa.UniqueConstraint('campaign_id', 'audience', 'kind', name=op.f('uq_print_pack_campaign_id_audience_kind'))
    )


def downgrade():
    op.drop_table('print_pack')

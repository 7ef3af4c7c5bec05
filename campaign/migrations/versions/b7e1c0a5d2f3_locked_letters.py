"""letters locked when their audience's outbox is built

Revision ID: b7e1c0a5d2f3
Revises: 4f40d184c63a
Create Date: 2026-12-02 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'b7e1c0a5d2f3'
down_revision = '4f40d184c63a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('locked_letters',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('parents', 'mps', name='audience', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('locked', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_locked_letters_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'audience', name=op.f('pk_locked_letters'))
    )
    # Every audience already in the outbox is locked from when its first message was saved.
    op.execute(
        "INSERT INTO locked_letters (campaign_id, audience, locked) "
        "SELECT campaign_id, audience, MIN(created) FROM message GROUP BY campaign_id, audience"
    )


def downgrade():
    op.drop_table('locked_letters')

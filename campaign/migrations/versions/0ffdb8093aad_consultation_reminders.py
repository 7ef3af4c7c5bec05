"""consultation reminders: each press of "Send a reminder", so a second one can be warned of

Revision ID: 0ffdb8093aad
Revises: b7e1c0a5d2f3
Create Date: 2026-12-02 21:28:17.046266

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0ffdb8093aad'
down_revision = 'b7e1c0a5d2f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('batch', sa.String(length=50), nullable=False),
    sa.Column('la', sa.String(length=100), nullable=False),
    sa.Column('constituency', sa.String(length=9), nullable=False),
    sa.Column('heads', sa.Integer(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('heads >= 0', name=op.f('ck_reminder_heads_not_negative')),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_reminder_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_reminder_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('batch', name=op.f('uq_reminder_batch'))
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_campaign_id'), ['campaign_id'], unique=False)



def downgrade():
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_campaign_id'))

    op.drop_table('reminder')

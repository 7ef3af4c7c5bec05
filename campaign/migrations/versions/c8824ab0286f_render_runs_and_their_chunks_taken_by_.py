"""render runs and their chunks, taken by the workers

Revision ID: c8824ab0286f
Revises: 5e2c9a7d41b8
Create Date: 2026-12-03 13:18:36.228742

A render is a run of chunks that any worker takes (campaign/letters/runs.py);
new tables, so nothing to move.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8824ab0286f'
down_revision = '5e2c9a7d41b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('render_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.Enum('parents', 'mps', name='audience', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('queued', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started', sa.DateTime(timezone=True), nullable=True),
    sa.Column('planned', sa.DateTime(timezone=True), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('failing_unchanged', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_render_run_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_render_run'))
    )
    with op.batch_alter_table('render_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_render_run_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('render_chunk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', name='chunkstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('touched', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failing', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['render_run.id'], name=op.f('fk_render_chunk_run_id_render_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_render_chunk'))
    )
    with op.batch_alter_table('render_chunk', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_render_chunk_run_id'), ['run_id'], unique=False)



def downgrade():
    with op.batch_alter_table('render_chunk', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_render_chunk_run_id'))

    op.drop_table('render_chunk')
    with op.batch_alter_table('render_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_render_run_campaign_id'))

    op.drop_table('render_run')

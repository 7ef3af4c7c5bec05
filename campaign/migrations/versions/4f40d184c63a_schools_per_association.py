"""schools per association, and a person's own details

Each association holds its own copy of a school's register facts, and a
person who saved their own details is no longer renamed by a roster.

Revision ID: 4f40d184c63a
Revises: 96d9a473d470
Create Date: 2026-12-03 12:00:00.000000

Until now a school was one row per URN shared by every association, so one
association's register import rewrote the facts another's pages and letters
showed. Now a school row belongs to one association, unique by
(association, URN), and school_membership goes: the row's association is its
membership.

Upgrade: a school linked to several associations (by a membership or by
anything an association holds about it: headships, signatures, stances,
evidence answers, parents' lists) is copied once per further association, and
every row pointing at it is repointed to its own association's copy. The
association with the lowest id keeps the original row. A school nobody links
to is deleted. Downgrade merges the copies back into one row per URN (the
lowest id wins) and rebuilds the memberships.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4f40d184c63a'
down_revision = '96d9a473d470'
branch_labels = None
depends_on = None

# Every association that holds something about a school, as (school_id, association_id).
LINKS = """
    SELECT school_id, association_id FROM school_membership
    UNION SELECT school_id, association_id FROM headship
    UNION SELECT s.school_id, c.association_id
        FROM signature s JOIN campaign c ON c.id = s.campaign_id
    UNION SELECT s.school_id, c.association_id
        FROM stance s JOIN campaign c ON c.id = s.campaign_id
    UNION SELECT a.school_id, c.association_id
        FROM evidence_answer a
        JOIN evidence_question q ON q.id = a.question_id
        JOIN campaign c ON c.id = q.campaign_id
    UNION SELECT p.school_id, c.association_id
        FROM parent_list p JOIN campaign c ON c.id = p.campaign_id
"""

# Each table pointing at a school, and how to find the association a row belongs
# to from inside an UPDATE of that table (a correlated expression).
REFERENCES = {
    'headship': 'headship.association_id',
    'signature': '(SELECT association_id FROM campaign WHERE id = signature.campaign_id)',
    'stance': '(SELECT association_id FROM campaign WHERE id = stance.campaign_id)',
    'evidence_answer': (
        '(SELECT c.association_id FROM evidence_question q JOIN campaign c ON c.id = q.campaign_id'
        ' WHERE q.id = evidence_answer.question_id)'
    ),
    'parent_list': '(SELECT association_id FROM campaign WHERE id = parent_list.campaign_id)',
}

# The school's own columns, copied as they are.
FACTS = (
    'urn, name, type, phase, status, local_authority, street, locality, address3, town,'
    ' county, postcode, pupils, head_title, head_first_name, head_last_name, head_job_title,'
    ' constituency_code, constituency_name, constituency_id'
)


def upgrade():
    execute = op.get_bind().execute
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('association_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_school_urn'), type_='unique')

    op.create_table(
        'school_owner',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('association_id', sa.Integer(), nullable=False),
        sa.Column('copy_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('school_id', 'association_id', name='pk_school_owner'),
    )
    execute(sa.text(f'INSERT INTO school_owner (school_id, association_id) {LINKS}'))
    # The first association keeps the row; each other one gets a copy.
    execute(sa.text(
        'UPDATE school SET association_id = (SELECT min(o.association_id) FROM school_owner o'
        ' WHERE o.school_id = school.id)'
    ))
    execute(sa.text(
        f'INSERT INTO school (association_id, {FACTS})'
        f' SELECT o.association_id, {", ".join("s." + c.strip() for c in FACTS.split(","))}'
        ' FROM school s JOIN school_owner o ON o.school_id = s.id'
        ' WHERE o.association_id <> s.association_id'
        ' ORDER BY o.association_id, s.urn'
    ))
    # URNs were unique, so (association, URN) now names exactly one row.
    execute(sa.text(
        'UPDATE school_owner SET copy_id = (SELECT c.id FROM school c JOIN school s'
        ' ON s.urn = c.urn WHERE s.id = school_owner.school_id'
        ' AND c.association_id = school_owner.association_id)'
    ))
    for table, association in REFERENCES.items():
        execute(sa.text(
            f'UPDATE {table} SET school_id = (SELECT o.copy_id FROM school_owner o'
            f' WHERE o.school_id = {table}.school_id AND o.association_id = {association})'
            f' WHERE school_id IN (SELECT school_id FROM school_owner WHERE copy_id <> school_id)'
        ))
    op.drop_table('school_owner')
    execute(sa.text('DELETE FROM school WHERE association_id IS NULL'))

    with op.batch_alter_table('school_membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_membership_association_id'))
    op.drop_table('school_membership')

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.alter_column('association_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_school_association_id_urn'), ['association_id', 'urn'])
        batch_op.create_foreign_key(batch_op.f('fk_school_association_id_association'), 'association', ['association_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details_saved', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    execute = op.get_bind().execute
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('details_saved')

    op.create_table('school_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('joined', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['association.id'], name=op.f('fk_school_membership_association_id_association'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_membership_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_membership')),
    sa.UniqueConstraint('school_id', 'association_id', name=op.f('uq_school_membership_school_id_association_id'))
    )
    with op.batch_alter_table('school_membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_membership_association_id'), ['association_id'], unique=False)

    # The lowest id of each URN stands for all its copies.
    keeper = '(SELECT min(k.id) FROM school k JOIN school s ON s.urn = k.urn WHERE s.id = {}.school_id)'
    copies = 'school_id NOT IN (SELECT min(id) FROM school GROUP BY urn)'
    execute(sa.text(
        'INSERT INTO school_membership (school_id, association_id)'
        ' SELECT (SELECT min(k.id) FROM school k WHERE k.urn = s.urn), s.association_id FROM school s'
    ))
    for table in REFERENCES:
        execute(sa.text(f'UPDATE {table} SET school_id = {keeper.format(table)} WHERE {copies}'))
    execute(sa.text('DELETE FROM school WHERE id NOT IN (SELECT min(id) FROM school GROUP BY urn)'))

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_school_association_id_association'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_school_association_id_urn'), type_='unique')
        batch_op.drop_column('association_id')
        batch_op.create_unique_constraint(batch_op.f('uq_school_urn'), ['urn'])

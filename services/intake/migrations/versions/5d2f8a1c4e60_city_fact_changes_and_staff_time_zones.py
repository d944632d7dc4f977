"""city facts are corrected with a reason (city_fact_changes); staff keep their own time zone

Revision ID: 5d2f8a1c4e60
Revises: c3a1d0e5f7a1
"""
from alembic import op
import sqlalchemy as sa

from shared.infra.orm import UTCDateTime

revision = '5d2f8a1c4e60'
down_revision = 'c3a1d0e5f7a1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'city_fact_changes',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('city_id', sa.String(length=36), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_by', sa.String(length=36), nullable=False),
        sa.Column('changed_by_name', sa.String(length=200), nullable=False),
        sa.Column('changed_by_role', sa.String(length=20), nullable=False),
        sa.Column('changed_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['city_id'], ['cities.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('city_fact_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_city_fact_changes_city_id'), ['city_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
    with op.batch_alter_table('city_fact_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_city_fact_changes_city_id'))
    op.drop_table('city_fact_changes')

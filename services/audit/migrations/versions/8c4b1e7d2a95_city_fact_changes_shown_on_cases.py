"""corrections of a city's facts, as intake announced them, shown on its cases; staff keep
their own time zone

Revision ID: 8c4b1e7d2a95
Revises: d21c4a7e5b90
"""
from alembic import op
import sqlalchemy as sa

from shared.infra.orm import UTCDateTime

revision = '8c4b1e7d2a95'
down_revision = 'd21c4a7e5b90'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'city_fact_changes',
        sa.Column('change_id', sa.String(length=36), nullable=False),
        sa.Column('city_id', sa.String(length=36), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_by', sa.String(length=36), nullable=False),
        sa.Column('changed_by_name', sa.String(length=200), nullable=False),
        sa.Column('changed_by_role', sa.String(length=20), nullable=False),
        sa.Column('changed_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('change_id'),
    )
    with op.batch_alter_table('city_fact_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_city_fact_changes_city_id'), ['city_id'], unique=False)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('timezone')
    with op.batch_alter_table('city_fact_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_city_fact_changes_city_id'))
    op.drop_table('city_fact_changes')

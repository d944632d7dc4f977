"""appeals of audited findings, and each submission's appeal window

Revision ID: f1c7d3a9e2b4
Revises: e6b2f19c4a70
"""
from alembic import op
import sqlalchemy as sa

from shared.infra.orm import UTCDateTime

revision = 'f1c7d3a9e2b4'
down_revision = 'e6b2f19c4a70'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'appeals',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('submission_id', sa.String(length=36), nullable=False),
        sa.Column('city_id', sa.String(length=36), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('filed_by', sa.String(length=36), nullable=True),
        sa.Column('filed_by_name', sa.String(length=200), nullable=False),
        sa.Column('filed_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('decisions', sa.JSON(), nullable=True),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id'),
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_city_id'), ['city_id'], unique=False)
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appeal_window_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('appeal_window_days')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_city_id'))
    op.drop_table('appeals')

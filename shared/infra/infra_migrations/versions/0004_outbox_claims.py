"""outbox rows claimed by one relay at a time (replicas share the outbox)

Revision ID: 0004_outbox_claims
Revises: 0003_workflow_calls
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_outbox_claims'
down_revision = '0003_workflow_calls'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')

"""parked messages name their submission and correlation id (operators search by them)

Revision ID: 0002_parked_message_ids
Revises: 0001_infra_tables
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_parked_message_ids'
down_revision = '0001_infra_tables'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('parked_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('correlation_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_parked_messages_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parked_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parked_messages_submission_id'))
        batch_op.drop_column('correlation_id')
        batch_op.drop_column('submission_id')

"""the calls a service makes to certification workflows, delivered after commit

Revision ID: 0003_workflow_calls
Revises: 0002_parked_message_ids
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_workflow_calls'
down_revision = '0002_parked_message_ids'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workflow_calls',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('workflow_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('workflow_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_calls_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_calls_workflow_id'), ['workflow_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('workflow_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_calls_workflow_id'))
        batch_op.drop_index(batch_op.f('ix_workflow_calls_delivered_at'))
    op.drop_table('workflow_calls')

"""appeals of audited findings, decided by independent auditors

Revision ID: e5a9c3f1b2d7
Revises: d41b7a2e9c05
"""
from alembic import op
import sqlalchemy as sa

from shared.infra.orm import UTCDateTime

revision = 'e5a9c3f1b2d7'
down_revision = 'd41b7a2e9c05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'appeals',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('submission_id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=True),
        sa.Column('city_id', sa.String(length=36), nullable=False),
        sa.Column('city_name', sa.String(length=200), nullable=False),
        sa.Column('cycle', sa.String(length=20), nullable=False),
        sa.Column('catalog_version', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('findings', sa.JSON(), nullable=False),
        sa.Column('excluded', sa.JSON(), nullable=False),
        sa.Column('filed_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('filed_by_name', sa.String(length=200), nullable=False),
        sa.Column('opened_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('due_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('reminded_for', UTCDateTime(timezone=True), nullable=True),
        sa.Column('escalated_for', UTCDateTime(timezone=True), nullable=True),
        sa.Column('signed_off_by', sa.String(length=64), nullable=True),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id'),
    )
    op.create_table(
        'appeal_decisions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('appeal_id', sa.String(length=36), nullable=False),
        sa.Column('criterion_id', sa.String(length=40), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('response', sa.String(length=20), nullable=False),
        sa.Column('reason_code', sa.String(length=80), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=False),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name='fk_appeal_decisions_appeal'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('appeal_id', 'criterion_id', name='uq_appeal_decisions_criterion'),
    )
    with op.batch_alter_table('appeal_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_decisions_appeal_id'), ['appeal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appeal_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_decisions_appeal_id'))
    op.drop_table('appeal_decisions')
    op.drop_table('appeals')

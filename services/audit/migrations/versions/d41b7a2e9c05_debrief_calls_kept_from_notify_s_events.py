"""debrief calls kept from notify's events (the case page says when and with whom)

Revision ID: d41b7a2e9c05
Revises: 8c4b1e7d2a95
"""
from alembic import op
import sqlalchemy as sa

from shared.infra.orm import UTCDateTime

revision = 'd41b7a2e9c05'
down_revision = '8c4b1e7d2a95'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'debrief_calls',
        sa.Column('submission_id', sa.String(length=36), nullable=False),
        sa.Column('booking_id', sa.String(length=36), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('starts_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('ends_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('auditor_id', sa.String(length=64), nullable=False),
        sa.Column('booked_by_name', sa.String(length=200), nullable=False),
        sa.Column('cancelled_by_name', sa.String(length=200), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('submission_id'),
    )


def downgrade() -> None:
    op.drop_table('debrief_calls')

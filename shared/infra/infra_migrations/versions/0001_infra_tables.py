"""the outbox, processed-event and parked-message tables every service keeps

Databases made before these tables had their own migrations already hold them (each
service's first migration created them): they are kept as they are, with their rows.

Revision ID: 0001_infra_tables
Revises:
"""
from alembic import op
import sqlalchemy as sa


revision = '0001_infra_tables'
down_revision = None
branch_labels = None
depends_on = None


def _exists(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if not _exists('outbox'):
        op.create_table('outbox',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('correlation_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('event_id')
        )
        with op.batch_alter_table('outbox', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_outbox_published_at'), ['published_at'], unique=False)

    if not _exists('parked_messages'):
        op.create_table('parked_messages',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('consumer', sa.String(length=120), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('deliveries', sa.Integer(), nullable=False),
        sa.Column('parked_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('replayed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('parked_messages', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_parked_messages_consumer'), ['consumer'], unique=False)

    if not _exists('processed_events'):
        op.create_table('processed_events',
        sa.Column('consumer', sa.String(length=120), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.PrimaryKeyConstraint('consumer', 'event_id')
        )


def downgrade() -> None:
    op.drop_table('processed_events')
    with op.batch_alter_table('parked_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parked_messages_consumer'))
    op.drop_table('parked_messages')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_published_at'))
    op.drop_table('outbox')

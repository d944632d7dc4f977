"""who withdrew a submission (their name), shown wherever the withdrawal is

Revision ID: e6b2f19c4a70
Revises: 5d2f8a1c4e60
"""
from alembic import op
import sqlalchemy as sa

revision = 'e6b2f19c4a70'
down_revision = '5d2f8a1c4e60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_by_name', sa.String(length=200), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_by_name')

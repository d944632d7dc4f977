"""scores revised after an appeal

Revision ID: c4e8a2f6b1d3
Revises: a533b3319222
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4e8a2f6b1d3'
down_revision = 'a533b3319222'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('revision')

"""submissions keep the audited result the city reads

Revision ID: 3e8d2c5a7f10
Revises: 9b5e77a628d9
"""
from alembic import op
import sqlalchemy as sa


revision = '3e8d2c5a7f10'
down_revision = '9b5e77a628d9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('audit')

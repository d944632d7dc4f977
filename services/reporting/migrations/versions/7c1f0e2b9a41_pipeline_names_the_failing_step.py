"""pipeline names the failing step in its own column (waiting_for says only "operator") and
who asked for sign-off

Revision ID: 7c1f0e2b9a41
Revises: 20da97a301a0
"""
from alembic import op
import sqlalchemy as sa


revision = '7c1f0e2b9a41'
down_revision = '20da97a301a0'
branch_labels = None
depends_on = None

LEGACY = "operator (failed step "


def upgrade() -> None:
    with op.batch_alter_table('pipeline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failing_step', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('signoff_by', sa.String(length=36), nullable=True))
    # Rows written before: the step was spelled inside waiting_for.
    pipeline = sa.table('pipeline', sa.column('submission_id', sa.String), sa.column('waiting_for', sa.String),
                        sa.column('failing_step', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(pipeline.c.submission_id, pipeline.c.waiting_for)
                        .where(pipeline.c.waiting_for.like(LEGACY + "%"))).all()
    for submission_id, waiting in rows:
        bind.execute(pipeline.update().where(pipeline.c.submission_id == submission_id)
                     .values(waiting_for="operator", failing_step=waiting[len(LEGACY):].rstrip(")")[:100]))


def downgrade() -> None:
    with op.batch_alter_table('pipeline', schema=None) as batch_op:
        batch_op.drop_column('signoff_by')
        batch_op.drop_column('failing_step')

"""decisions bound to what they judged, the case's deciders over its history, a keyed trail

Revision ID: 3c1f6e2a9b47
Revises: b7e2c4d9a0f3
"""
from alembic import op
import sqlalchemy as sa


revision = '3c1f6e2a9b47'
down_revision = 'b7e2c4d9a0f3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('judged_version', sa.Integer(), server_default='1', nullable=False))
        # "": decided before versions were kept; such a decision is compared by time.
        batch_op.add_column(sa.Column('judged_fingerprint', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deciders', sa.JSON(), nullable=True))
    with op.batch_alter_table('trail', schema=None) as batch_op:
        # "": written before the trail was keyed (plain SHA-256).
        batch_op.add_column(sa.Column('key_id', sa.String(length=40), server_default='', nullable=False))

    # Who decided what so far is in the trail (every save and bulk confirmation, by whom):
    # the history of deciders starts from it, not from the latest decisions only.
    bind = op.get_bind()
    trail = sa.table('trail', sa.column('case_id', sa.String), sa.column('actor_id', sa.String),
                     sa.column('action', sa.String))
    cases = sa.table('review_cases', sa.column('id', sa.String), sa.column('deciders', sa.JSON))
    decided: dict[str, set[str]] = {}
    for case_id, actor in bind.execute(sa.select(trail.c.case_id, trail.c.actor_id).where(
            trail.c.action.in_(['decision.saved', 'decisions.confirmed']), trail.c.case_id.is_not(None))):
        decided.setdefault(case_id, set()).add(actor)
    for case_id, actors in decided.items():
        bind.execute(sa.update(cases).where(cases.c.id == case_id).values(deciders=sorted(actors)))


def downgrade() -> None:
    with op.batch_alter_table('trail', schema=None) as batch_op:
        batch_op.drop_column('key_id')
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_column('deciders')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('judged_fingerprint')
        batch_op.drop_column('judged_version')

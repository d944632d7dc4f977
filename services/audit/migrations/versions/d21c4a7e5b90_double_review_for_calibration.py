"""double review for calibration: the sampled flag, the second reviewer, blind decisions, resolutions

Revision ID: d21c4a7e5b90
Revises: 3c1f6e2a9b47
"""
from alembic import op
import sqlalchemy as sa


revision = 'd21c4a7e5b90'
down_revision = '3c1f6e2a9b47'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('double_review', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('second_reviewer_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('first_review', sa.JSON(), nullable=True))
        batch_op.create_index('ix_review_cases_second_reviewer_id', ['second_reviewer_id'], unique=False)
    op.create_table(
        'blind_decisions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('criterion_id', sa.String(length=40), nullable=False),
        sa.Column('auditor_id', sa.String(length=64), nullable=False),
        sa.Column('submitted', sa.String(length=20), nullable=False),
        sa.Column('response', sa.String(length=20), nullable=False),
        sa.Column('reason_code', sa.String(length=80), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('what_would_satisfy', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['review_cases.id'], name='fk_blind_decisions_case'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'criterion_id', name='uq_blind_decisions_case_criterion'),
    )
    op.create_index('ix_blind_decisions_case_id', 'blind_decisions', ['case_id'], unique=False)
    op.create_table(
        'double_review_resolutions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('criterion_id', sa.String(length=40), nullable=False),
        sa.Column('first_response', sa.String(length=20), nullable=False),
        sa.Column('second_response', sa.String(length=20), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('by', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['review_cases.id'], name='fk_resolutions_case'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'criterion_id', name='uq_resolutions_case_criterion'),
    )
    op.create_index('ix_double_review_resolutions_case_id', 'double_review_resolutions', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_double_review_resolutions_case_id', table_name='double_review_resolutions')
    op.drop_table('double_review_resolutions')
    op.drop_index('ix_blind_decisions_case_id', table_name='blind_decisions')
    op.drop_table('blind_decisions')
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_review_cases_second_reviewer_id')
        batch_op.drop_column('first_review')
        batch_op.drop_column('second_reviewer_id')
        batch_op.drop_column('double_review')

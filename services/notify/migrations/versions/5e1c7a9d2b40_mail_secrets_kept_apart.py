"""mail secrets kept apart from the stored copy

A confirmation link is rendered as a mark in `text`/`html`; its value waits in `secrets`
until the relay accepted the mail. Mails recorded before lose their links the same way (a
pending one keeps its link in `secrets`, a sent one forgets it).

Revision ID: 5e1c7a9d2b40
Revises: 273c2c12110c
"""
import re

from alembic import op
import sqlalchemy as sa

LINK = re.compile(r"https?://[^\s\"'<>]+/portal/register/confirm\?token=[\w-]+")
MARK = "[[wwc-secret:confirm_url]]"


revision = '5e1c7a9d2b40'
down_revision = '273c2c12110c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secrets', sa.JSON(), nullable=True))
    mails = sa.table('mails', sa.column('id', sa.String), sa.column('state', sa.String),
                     sa.column('kind', sa.String), sa.column('text', sa.Text), sa.column('html', sa.Text),
                     sa.column('secrets', sa.JSON))
    bind = op.get_bind()
    rows = bind.execute(sa.select(mails.c.id, mails.c.state, mails.c.text, mails.c.html)
                        .where(mails.c.kind == 'registration_requested')).all()
    for row in rows:
        found = LINK.search(row.text or "")
        if found is None:
            continue
        bind.execute(mails.update().where(mails.c.id == row.id).values(
            text=LINK.sub(MARK, row.text), html=LINK.sub(MARK, row.html or ""),
            secrets=None if row.state == 'sent' else {"confirm_url": found.group(0)}))


def downgrade() -> None:
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_column('secrets')

"""states become ISO 3166-2 codes

A stored state or province spelled as typed ("IL", "Illinois", "Ontario") becomes its
ISO 3166-2 code ("US-IL", "CA-ON"); what names no subdivision of its country is left as it
was and reported on the `wwc.migrations` logger (shared/infra/places_migration.py).
No schema change; a downgrade turns codes back into the part after the country ("IL").

Revision ID: c3a1d0e5f7a1
Revises: 3e8d2c5a7f10
"""
from alembic import op

from shared.infra.places_migration import codes_for_states, states_from_codes

revision = 'c3a1d0e5f7a1'
down_revision = '3e8d2c5a7f10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    codes_for_states(bind, "cities", unique=("name",))


def downgrade() -> None:
    bind = op.get_bind()
    states_from_codes(bind, "cities")

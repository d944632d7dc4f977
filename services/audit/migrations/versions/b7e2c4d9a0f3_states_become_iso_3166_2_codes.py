"""states become ISO 3166-2 codes

A stored state or province spelled as typed ("IL", "Illinois", "Ontario") becomes its
ISO 3166-2 code ("US-IL", "CA-ON"); what names no subdivision of its country is left as it
was and reported on the `wwc.migrations` logger (shared/infra/places_migration.py).
No schema change; a downgrade turns codes back into the part after the country ("IL").

Revision ID: b7e2c4d9a0f3
Revises: 975e7b26f1dd
"""
from alembic import op

from shared.infra.places_migration import codes_for_states, states_from_codes

revision = 'b7e2c4d9a0f3'
down_revision = '975e7b26f1dd'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    codes_for_states(bind, "review_cases")
    codes_for_states(bind, "cities", key="city_id")
    codes_for_states(bind, "conflicts", where="scope = 'state'")


def downgrade() -> None:
    bind = op.get_bind()
    states_from_codes(bind, "review_cases")
    states_from_codes(bind, "cities", key="city_id")
    states_from_codes(bind, "conflicts")

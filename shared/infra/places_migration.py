"""Data migrations that turn stored states and provinces into ISO 3166-2 codes
(`shared.catalog.places`): each service that keeps a state runs `codes_for_states` on its
tables from one Alembic revision.

A legacy spelling ("IL", "Ontario", "Québec") becomes its code. A value that names no
subdivision of the row's country is left as it was and reported (a warning per row on the
`wwc.migrations` logger, and in the returned list), as is a row whose new code would make it
a duplicate under `unique` (two cities "Springfield", one "IL" and one "Illinois").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from shared.catalog import places

log = logging.getLogger("wwc.migrations")


@dataclass(frozen=True)
class LeftAsIs:
    table: str
    row: str
    country: str
    state: str
    why: str  # "unknown" | "duplicate"


def codes_for_states(bind, table: str, *, key: str = "id", where: str = "",
                     unique: Sequence[str] = ()) -> list[LeftAsIs]:
    """Rewrite `table.state` as codes; the rows left as they were. `unique`: the other
    columns of a unique constraint that includes (state, country)."""
    columns = ", ".join(dict.fromkeys((key, "country", "state", *unique)))
    condition = f"state <> ''{f' AND {where}' if where else ''}"
    rows = bind.execute(sa.text(f"SELECT {columns} FROM {table} WHERE {condition}")).mappings().all()
    left: list[LeftAsIs] = []
    for row in rows:
        code = places.normalise(row["country"], row["state"])
        if code == row["state"]:
            continue
        if code is None:
            left.append(LeftAsIs(table, str(row[key]), row["country"], row["state"], "unknown"))
            continue
        if unique:
            same = " AND ".join(f"{c} = :{c}" for c in unique)
            clash = bind.execute(sa.text(f"SELECT 1 FROM {table} WHERE {same} AND country = :country AND "
                                         f"state = :code AND {key} <> :key"),
                                 {**{c: row[c] for c in unique}, "country": row["country"], "code": code,
                                  "key": row[key]}).first()
            if clash is not None:
                left.append(LeftAsIs(table, str(row[key]), row["country"], row["state"], "duplicate"))
                continue
        bind.execute(sa.text(f"UPDATE {table} SET state = :code WHERE {key} = :key"), {"code": code, "key": row[key]})
    for item in left:
        log.warning("places.left_as_is table=%s row=%s country=%s state=%r why=%s", item.table, item.row,
                    item.country, item.state, item.why)
    return left


def states_from_codes(bind, table: str, *, key: str = "id") -> None:
    """Downgrade: codes back to the part after the country ("US-IL" -> "IL"), the form the
    code before the migration read for US and Canadian places."""
    rows = bind.execute(sa.text(f"SELECT {key}, country, state FROM {table} WHERE state <> ''")).all()
    for row_key, country, state in rows:
        if places.is_valid(state, country):
            bind.execute(sa.text(f"UPDATE {table} SET state = :state WHERE {key} = :key"),
                         {"state": places.suffix(state), "key": row_key})

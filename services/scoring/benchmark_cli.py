"""`wwc benchmarks rebuild`: recompute the live benchmark sums from the stored scores.

Published releases are kept as they are; cities whose rebuilt score is not in their
cycle's last release become pending, and a release is cut where the rule allows one.
"""

from __future__ import annotations

import asyncio
import sys

from shared.infra import migrations
from shared.infra.db import Database
from shared.infra.settings import ServiceSettings
from services.scoring import benchmark_releases, benchmark_store


async def rebuild_configured() -> tuple[int, list[tuple[str, int]]]:
    s = ServiceSettings.for_service("scoring")
    db = Database(s.db_url, s.db_schema)
    try:
        await migrations.upgrade(db, "scoring")
        async with db.transaction() as session:
            cities = await benchmark_store.rebuild(session)
            releases = await benchmark_releases.cut_all_due(session)
            return cities, [(r.cycle, r.release) for r in releases]
    finally:
        await db.dispose()


def _rebuild(_args) -> int:
    try:
        cities, releases = asyncio.run(rebuild_configured())
    except benchmark_store.RebuildError as exc:
        print(f"wwc benchmarks rebuild: {exc}", file=sys.stderr)
        return 1
    print(f"benchmarks rebuilt from {cities} cities' latest scores")
    for cycle, number in releases:
        print(f"cycle {cycle}: release {number} published")
    return 0


def register(subparsers) -> None:
    bench = subparsers.add_parser("benchmarks", help="benchmark aggregates").add_subparsers(
        dest="benchmarks_command", required=True)
    bench.add_parser("rebuild", help="recompute the live sums from the stored scores; releases are kept"
                     ).set_defaults(func=_rebuild)

"""`wwc benchmarks rebuild`: recompute every benchmark aggregate from the stored scores."""

from __future__ import annotations

import asyncio

from shared.infra import migrations
from shared.infra.db import Database
from shared.infra.settings import ServiceSettings
from services.scoring import benchmark_store


async def rebuild_configured() -> int:
    s = ServiceSettings.for_service("scoring")
    db = Database(s.db_url, s.db_schema)
    try:
        await migrations.upgrade(db, "scoring")
        async with db.transaction() as session:
            return await benchmark_store.rebuild(session)
    finally:
        await db.dispose()


def _rebuild(_args) -> int:
    cities = asyncio.run(rebuild_configured())
    print(f"benchmarks rebuilt from {cities} cities' latest scores")
    return 0


def register(subparsers) -> None:
    bench = subparsers.add_parser("benchmarks", help="benchmark aggregates").add_subparsers(
        dest="benchmarks_command", required=True)
    bench.add_parser("rebuild", help="recompute all aggregates from the stored scores").set_defaults(func=_rebuild)

"""`wwc db revision SERVICE -m MSG`: autogenerate an Alembic revision from the models.

It diffs the models against a scratch SQLite database brought to head, so revisions are
explicit, frozen code (never `create_all`).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from alembic import command

from shared.infra.db import Database
from shared.infra.migrations import alembic_config, upgrade


def make_revision(service: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}")

        async def _run() -> None:
            await upgrade(db, service)
            cfg = alembic_config(service)

            def _rev(connection) -> None:
                cfg.attributes["connection"] = connection
                command.revision(cfg, message=message, autogenerate=True)

            async with db.engine.begin() as conn:
                await conn.run_sync(_rev)
            await db.dispose()

        asyncio.run(_run())


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    rev = db.add_parser("revision", help="autogenerate a revision for one service from its models "
                                         "(`infra`: the outbox/processed/parked tables every service shares)")
    rev.add_argument("service")
    rev.add_argument("-m", "--message", required=True)
    rev.set_defaults(func=lambda a: make_revision(a.service, a.message))
    up = db.add_parser("upgrade", help="apply one service's migrations to its configured database")
    up.add_argument("service")
    up.set_defaults(func=lambda a: _upgrade_configured(a.service))


def _upgrade_configured(service: str) -> None:
    from shared.infra.settings import ServiceSettings

    s = ServiceSettings.for_service(service)
    db = Database(s.db_url, s.db_schema)

    async def _run() -> None:
        await upgrade(db, service)
        await db.dispose()

    asyncio.run(_run())
    print(f"{service}: database at head")

"""`wwc db revision SERVICE -m MSG`: autogenerate an Alembic revision from the models.

It diffs the models against a scratch SQLite database brought to head, so revisions are
explicit, frozen code (never `create_all`).

`wwc db backup SERVICE FILE` copies a live SQLite database (PostgreSQL: `pg_dump
--schema=SERVICE`), and `wwc db republish SERVICE --since TIME`, run after a restore, sends
again the events and workflow calls the service sent since then (deploy/README.md,
"Backups and restore").
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
    bk = db.add_parser("backup", help="an online copy of one service's SQLite database")
    bk.add_argument("service")
    bk.add_argument("file", type=Path)
    bk.set_defaults(func=lambda a: _backup(a.service, a.file))
    rp = db.add_parser("republish", help="after a restore: send again the events and workflow calls "
                                         "one service sent since a time (consumers skip what they have)")
    rp.add_argument("service")
    rp.add_argument("--since", required=True, help="ISO time, UTC unless it says (e.g. 2026-12-06T02:00)")
    rp.set_defaults(func=lambda a: _republish(a.service, a.since))


def _configured(service: str) -> Database:
    from shared.infra.settings import ServiceSettings

    s = ServiceSettings.for_service(service)
    return Database(s.db_url, s.db_schema)


def _backup(service: str, target: Path) -> int:
    from shared.infra.restore import backup_sqlite

    db = _configured(service)
    if not db.is_sqlite:
        print(f"{service}: not SQLite; use pg_dump --format=custom --schema={db.schema or service}")
        return 2
    backup_sqlite(Path(db.url.database), target)
    print(f"{service}: backed up to {target}")
    return 0


def _republish(service: str, since: str) -> int:
    from datetime import UTC, datetime

    from shared.infra.restore import requeue_since

    when = datetime.fromisoformat(since)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    db = _configured(service)

    async def _run() -> tuple[int, int]:
        try:
            return await requeue_since(db, when)
        finally:
            await db.dispose()

    events, calls = asyncio.run(_run())
    print(f"{service}: {events} event(s) and {calls} workflow call(s) since {when.isoformat()} will be sent again")
    return 0


def _upgrade_configured(service: str) -> None:
    db = _configured(service)

    async def _run() -> None:
        await upgrade(db, service)
        await db.dispose()

    asyncio.run(_run())
    print(f"{service}: database at head")

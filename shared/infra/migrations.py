"""Alembic, per service, applied at start-up.

Two migration sources run on each service's database, each with its own version table:

- `shared/infra/infra_migrations` (version table `alembic_version_infra`): the outbox,
  processed-event and parked-message tables every service has — changed once, here;
- `services/<name>/migrations` (version table `alembic_version`): the service's own tables.

Each has a two-line `env.py` calling `run_env(metadata)`. `upgrade(db, service)` brings
both to head on the service's own connection (and schema on PostgreSQL), the shared
tables first. Autogenerate only ever compares the tables of its own source.
`check_current(db, service)` is for a service that does not migrate at start-up
(`WWC_MIGRATE_ON_START=false`): it raises until a separate `wwc db upgrade` has run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import MetaData

from shared.infra.db import Database

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
INFRA = "infra"
INFRA_DIR = Path(__file__).resolve().parent / "infra_migrations"
INFRA_VERSION_TABLE = "alembic_version_infra"


def alembic_config(source: str) -> Config:
    """`source`: a service name, or INFRA for the shared tables."""
    cfg = Config()
    location = INFRA_DIR if source == INFRA else SERVICES_DIR / source / "migrations"
    cfg.set_main_option("script_location", str(location))
    return cfg


# Alembic's `context` is module-global: two services migrating at once in one process
# (tests, tools) would interleave and corrupt each other's run.
_lock = asyncio.Lock()


async def upgrade(db: Database, service: str, revision: str = "head") -> None:
    async with _lock:
        await db.ensure_schema()
        await _upgrade(db, INFRA, "head")
        await _upgrade(db, service, revision)


class NotMigrated(RuntimeError):
    """The database lacks migrations this code has: `wwc db upgrade SERVICE` has not run yet."""


async def check_current(db: Database, service: str) -> None:
    """Raise NotMigrated unless the database has every migration of this code, for the
    shared tables and the service's own. A database migrated by a newer version (a
    revision this code does not know) is not behind: a rolling update's old replicas go on."""
    behind = []
    for source, table in ((INFRA, INFRA_VERSION_TABLE), (service, "alembic_version")):
        script = ScriptDirectory.from_config(alembic_config(source))

        def _current(connection, table=table) -> tuple[str, ...]:
            return MigrationContext.configure(connection, opts={"version_table": table}).get_current_heads()

        async with db.engine.connect() as conn:
            current = await conn.run_sync(_current)
        if _behind(script, current):
            behind.append(source)
    if behind:
        raise NotMigrated(f"{service}: the database lacks migrations ({', '.join(behind)}); "
                          f"run `wwc db upgrade {service}`")


def _behind(script: ScriptDirectory, current: tuple[str, ...]) -> bool:
    applied: set[str] = set()
    for revision in current:
        try:
            applied.update(r.revision for r in script.iterate_revisions(revision, "base"))
        except RevisionError:
            return False  # a revision from a newer version of the code
    return not set(script.get_heads()) <= applied


async def _upgrade(db: Database, source: str, revision: str) -> None:
    cfg = alembic_config(source)

    def _run(connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


def run_env(target_metadata: MetaData, *, version_table: str = "alembic_version") -> None:
    """Body of every migrations/env.py (online mode on a given connection)."""
    connection = context.config.attributes["connection"]
    own_tables = set(target_metadata.tables)

    def include_name(name, type_, parent_names) -> bool:
        # The other source's tables (and version table) are not this source's business.
        return type_ != "table" or name in own_tables

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        version_table=version_table,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()

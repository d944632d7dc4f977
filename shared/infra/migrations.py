"""Alembic, per service, applied at start-up.

Two migration sources run on each service's database, each with its own version table:

- `shared/infra/infra_migrations` (version table `alembic_version_infra`): the outbox,
  processed-event and parked-message tables every service has — changed once, here;
- `services/<name>/migrations` (version table `alembic_version`): the service's own tables.

Each has a two-line `env.py` calling `run_env(metadata)`. `upgrade(db, service)` brings
both to head on the service's own connection (and schema on PostgreSQL), the shared
tables first. Autogenerate only ever compares the tables of its own source.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
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

"""Alembic, per service, applied at start-up.

Each service keeps its revisions in `services/<name>/migrations/` and a two-line
`env.py` that calls `run_env(metadata)`; `upgrade(db, service)` runs them to head on the
service's own connection (and schema on PostgreSQL).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from shared.infra.db import Database

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def alembic_config(service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    return cfg


# Alembic's `context` is module-global: two services migrating at once in one process
# (tests, tools) would interleave and corrupt each other's run.
_lock = asyncio.Lock()


async def upgrade(db: Database, service: str, revision: str = "head") -> None:
    async with _lock:
        await _upgrade(db, service, revision)


async def _upgrade(db: Database, service: str, revision: str) -> None:
    await db.ensure_schema()
    cfg = alembic_config(service)

    def _run(connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


def run_env(target_metadata: MetaData | list[MetaData]) -> None:
    """Body of every service's migrations/env.py (online mode on a given connection)."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()

"""`wwc db upgrade SERVICE` brings one service's configured database to head (what the
Kubernetes migration Jobs run), and with `WWC_MIGRATE_ON_START=false` a service does not
migrate at start-up but waits until its database has every migration it knows."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import inspect, text

from devtools.harness import PG_URL
from services.cli import main as wwc
from shared.infra import migrations
from shared.infra.db import Database
from shared.infra.runtime import ServiceRuntime, Settings
from shared.infra.settings import ServiceSettings


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_wwc_db_upgrade_migrates_the_configured_database(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'scoring.db'}"
    monkeypatch.setenv("WWC_SCORING_DB_URL", url)
    assert wwc(["db", "upgrade", "scoring"]) == 0
    assert "scoring: database at head" in capsys.readouterr().out
    tables = _tables(url)
    assert {"alembic_version", migrations.INFRA_VERSION_TABLE, "outbox", "processed_events"} <= tables
    assert wwc(["db", "upgrade", "scoring"]) == 0  # again: nothing to do

    async def current() -> None:
        db = Database(url)
        try:
            await migrations.check_current(db, "scoring")
        finally:
            await db.dispose()

    asyncio.run(current())


async def test_check_current_until_upgraded_and_past_a_newer_version(backend, tmp_path):
    if backend == "postgres":  # a schema that does not exist yet, as on a fresh database
        db = Database(PG_URL, f"t{uuid.uuid4().hex[:8]}_audit")
    else:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}")
    try:
        with pytest.raises(migrations.NotMigrated, match="wwc db upgrade audit"):
            await migrations.check_current(db, "audit")
        await migrations.upgrade(db, "audit")
        await migrations.check_current(db, "audit")
        # Migrated by a newer release (a revision this code does not know): not behind.
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
        await migrations.check_current(db, "audit")
    finally:
        if backend == "postgres":
            async with db.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
        await db.dispose()


async def test_service_with_migrate_on_start_off_waits_for_the_migration(tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_MIGRATE_ON_START", "false")
    url = f"sqlite+aiosqlite:///{tmp_path / 'notify.db'}"
    runtime = ServiceRuntime(Settings(service=ServiceSettings(name="notify", db_url=url)))
    try:
        with pytest.raises(migrations.NotMigrated):
            await runtime._start_db()
        assert not runtime.ready["db"]
        async with runtime.db.engine.connect() as conn:
            assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == []  # nothing applied
        await migrations.upgrade(runtime.db, "notify")  # the Job
        await runtime._start_db()
        assert runtime.ready["db"]
    finally:
        await runtime.db.dispose()

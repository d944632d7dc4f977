"""`wwc db backup SERVICE FILE` copies a live SQLite database; after a restore,
`wwc db republish SERVICE --since TIME` makes the events published and the workflow calls
delivered since then pending again, and leaves older ones alone. (The whole restore, with
NATS wiped and Temporal behind, is tests/e2e/test_restore_drill.py.)"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from services.cli import main as wwc
from shared.infra.db import Database
from shared.infra.restore import restore_sqlite
from shared.infra.tables import outbox, workflow_calls

NOW = datetime.now(UTC)
OLD, RECENT = NOW - timedelta(days=2), NOW - timedelta(minutes=1)


def _run(work):
    async def go(url: str):
        db = Database(url)
        try:
            return await work(db)
        finally:
            await db.dispose()
    return go


async def _seed(db: Database) -> None:
    async with db.transaction() as session:
        for name, published in (("old", OLD), ("recent", RECENT), ("pending", None)):
            await session.execute(outbox.insert().values(
                event_id=str(uuid.uuid4()), subject=f"wwc.test.{name}", body={"name": name}, correlation_id="",
                attempts=1, published_at=published, claimed_by="relay-1" if published else None,
                claimed_until=NOW + timedelta(minutes=1) if published else None))
        for name, delivered in (("old", OLD), ("recent", RECENT)):
            await session.execute(workflow_calls.insert().values(
                id=str(uuid.uuid4()), workflow_id=f"certification-{name}", kind="signal", name=name, payload={},
                outcome="delivered", attempts=1, delivered_at=delivered, claimed_by="relay-1"))


async def _state(db: Database) -> tuple[dict, dict]:
    async with db.sessionmaker() as session:
        events = {r.subject.rsplit(".", 1)[1]: (r.published_at, r.claimed_by)
                  for r in (await session.execute(select(outbox))).all()}
        calls = {r.name: (r.delivered_at, r.outcome, r.claimed_by)
                 for r in (await session.execute(select(workflow_calls))).all()}
    return events, calls


def test_republish_sends_again_only_what_went_out_since(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'scoring.db'}"
    monkeypatch.setenv("WWC_SCORING_DB_URL", url)
    assert wwc(["db", "upgrade", "scoring"]) == 0
    asyncio.run(_run(_seed)(url))

    since = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")  # no zone: UTC
    assert wwc(["db", "republish", "scoring", "--since", since]) == 0
    assert "1 event(s) and 1 workflow call(s)" in capsys.readouterr().out
    events, calls = asyncio.run(_run(_state)(url))
    assert events["recent"] == (None, None) and events["pending"] == (None, None)  # free for any relay
    assert events["old"][0] is not None  # older than the restored point: the stream had it
    assert calls["recent"] == (None, "", None)  # free for any relay to deliver again
    assert calls["old"][0] is not None and calls["old"][1] == "delivered"


def test_backup_of_a_live_database_restores_to_that_moment(tmp_path, monkeypatch, capsys):
    live = tmp_path / "notify.db"
    url = f"sqlite+aiosqlite:///{live}"
    monkeypatch.setenv("WWC_NOTIFY_DB_URL", url)
    assert wwc(["db", "upgrade", "notify"]) == 0
    asyncio.run(_run(_seed)(url))
    writer = sqlite3.connect(live)  # the service keeps a connection open while it is copied
    writer.execute("PRAGMA journal_mode=WAL")

    copy = tmp_path / "backup" / "notify.db"
    assert wwc(["db", "backup", "notify", str(copy)]) == 0
    assert "notify: backed up to" in capsys.readouterr().out
    writer.execute("INSERT INTO outbox (event_id, subject, body, correlation_id, attempts) "
                   "VALUES ('after', 'wwc.test.after', '{}', '', 0)")
    writer.commit()  # written after the backup: in the live file's write-ahead log
    writer.close()

    restore_sqlite(copy, live)
    events, _ = asyncio.run(_run(_state)(url))
    assert sorted(events) == ["old", "pending", "recent"]


def test_backup_of_a_postgres_database_points_to_pg_dump(monkeypatch, capsys):
    monkeypatch.setenv("WWC_AUDIT_DB_URL", "postgresql+asyncpg://wwc@db/wwc")
    monkeypatch.setenv("WWC_AUDIT_DB_SCHEMA", "audit")
    assert wwc(["db", "backup", "audit", str(Path("unused.db"))]) == 2
    assert "pg_dump --format=custom --schema=audit" in capsys.readouterr().out

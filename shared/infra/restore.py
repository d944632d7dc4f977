"""Backups of a service's SQLite database, and what a restore needs afterwards.

A restored database is older than what NATS and Temporal saw: the outbox rows it marks
published may never have reached a consumer whose own database was restored too (or whose
stream was rebuilt empty), and the workflow calls it marks delivered may be missing from a
Temporal restored to an earlier point. `requeue_since` sends both again: consumers skip the
events they already processed (`processed_events`), JetStream's duplicate window drops a
second copy still in the stream, a second start is `already_started` and every signal is
idempotent in the workflow. So requeuing too much costs only traffic; too little loses facts.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy import update

from shared.infra.db import Database
from shared.infra.tables import outbox, workflow_calls


def backup_sqlite(source: Path, target: Path) -> None:
    """An online, consistent copy of a live SQLite database (the writers keep writing).
    The copy is one step, under one read lock, so it is a single point in time."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source, timeout=30), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def restore_sqlite(backup: Path, target: Path) -> None:
    """Put a backup in place of a (stopped) service's database, through SQLite: the target's
    write-ahead log is honoured and superseded (copying the file over it would not be)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(backup), sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


async def requeue_since(db: Database, since: datetime) -> tuple[int, int]:
    """Outbox rows published and workflow calls delivered at or after `since` are pending
    again, for the service's relays to send once more; (events, calls) requeued."""
    async with db.transaction() as session:
        events = await session.execute(
            update(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at >= since)
            .values(published_at=None, claimed_by=None, claimed_until=None))
        calls = await session.execute(
            update(workflow_calls).where(workflow_calls.c.delivered_at.is_not(None),
                                         workflow_calls.c.delivered_at >= since)
            .values(delivered_at=None, outcome="", claimed_by=None, claimed_until=None))
    return events.rowcount or 0, calls.rowcount or 0

"""A relay's claim on rows of a relayed table, so replicas sharing one database never act on
the same row at the same time, and a relay that died leaves its rows to the next one once
its claim expires.

Used by the outbox relay (`shared.infra.outbox`) and the workflow-call relay
(`certification.gateway`): their tables carry `seq`, `claimed_by` and `claimed_until`, and a
column that is set once the row is done (`published_at`, `delivered_at`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Table, and_, exists, or_, select, update

from shared.infra.db import Database


class Claim:
    """One relay's hold on the next rows of `table` not yet `done`."""

    def __init__(self, db: Database, table: Table, done: Column, *, lease: timedelta,
                 in_order_of: Column | None = None) -> None:
        self.db, self.table, self.done, self.lease = db, table, done, lease
        # Rows with the same value here are taken one at a time, in `seq` order, whichever
        # replica holds the earlier one (a workflow's calls must not overtake each other).
        self.in_order_of = in_order_of
        self.token = ""  # a fresh one per take: rows of an earlier take are never re-read
        self.until = datetime.min.replace(tzinfo=UTC)

    async def take(self, limit: int) -> list:
        """Claim up to `limit` free rows (never claimed, or their claim expired), oldest
        first, and return the rows this take got."""
        t = self.table
        now = datetime.now(UTC)
        self.token, self.until = uuid.uuid4().hex, now + self.lease
        free = and_(self.done.is_(None), or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
        if self.in_order_of is not None:
            earlier = t.alias("earlier")
            key = self.in_order_of.name
            free = and_(free, ~exists().where(earlier.c[key] == t.c[key], earlier.c.seq < t.c.seq,
                                              earlier.c[self.done.name].is_(None)))
        due = select(t.c.seq).where(free).order_by(t.c.seq).limit(limit)
        async with self.db.transaction() as session:
            # The condition is checked again on each row as it is updated (PostgreSQL re-reads
            # a row another transaction changed; SQLite runs one writer at a time): of two
            # relays racing for a row, one takes it.
            await session.execute(update(t).where(t.c.seq.in_(due.scalar_subquery()), free)
                                  .values(claimed_by=self.token, claimed_until=self.until))
        async with self.db.sessionmaker() as session:
            return list((await session.execute(
                select(t).where(t.c.claimed_by == self.token, self.done.is_(None)).order_by(t.c.seq))).all())

    def holds(self) -> bool:
        """Whether a third of the claim is still left: a relay starts no step that could
        outlast its claim (each step's own timeout is well under that), or another relay
        could take the row meanwhile."""
        return datetime.now(UTC) + self.lease / 3 < self.until

    async def release(self) -> None:
        """Give back what this take has not done (a failure, or shutting down), so it need
        not wait for the claim to expire."""
        if not self.token:
            return
        t = self.table
        async with self.db.transaction() as session:
            await session.execute(update(t).where(t.c.claimed_by == self.token, self.done.is_(None))
                                  .values(claimed_by=None, claimed_until=None))

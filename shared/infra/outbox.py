"""Transactional outbox: the event row is written in the producer's own transaction, and
a relay publishes it to JetStream with `Nats-Msg-Id = event_id`, then marks it sent.

A crash between publish and mark means the row is published again on restart; JetStream's
duplicate window drops the second copy, so the fact arrives once.

Replicas of a service share its outbox: a relay claims the rows it publishes
(`shared.infra.claims`), so two relays never publish the same row at the same time, and the
rows of a relay that died are taken by another once its claim expires (`CLAIM`).

When tracing is on, the producer's trace context is kept with the row (under `TRACE_KEY`
in the stored body, taken out before publishing) and travels on as the `traceparent`
message header, so a consumer's span continues the trace of the request that wrote it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from opentelemetry.trace import Tracer
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import Envelope
from shared.infra.claims import Claim
from shared.infra.db import Database
from shared.infra.logging import get_logger
from shared.infra.tables import outbox
from shared.infra.tracing import current_carrier, publish_span

log = get_logger(__name__)

Publisher = Callable[[str, bytes, dict[str, str]], Awaitable[bool]]
"""(subject, body, headers) -> True when JetStream reports it a duplicate."""

# The producer's W3C trace context in a stored body: never published as part of the event.
TRACE_KEY = "_trace"
# How long a relay holds the rows it took (a JetStream publish times out well within a
# third of it); what a restarted service waits, at most, for its previous process's rows.
CLAIM = timedelta(seconds=30)


async def add_event(session: AsyncSession, envelope: Envelope) -> None:
    """Record an event in the caller's transaction; the relay publishes it after commit."""
    body = envelope.model_dump(mode="json")
    if carrier := current_carrier():
        body[TRACE_KEY] = carrier
    await session.execute(
        outbox.insert().values(
            event_id=str(envelope.event_id),
            subject=envelope.type,
            body=body,
            correlation_id=envelope.correlation_id,
            attempts=0,
        )
    )


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publish: Publisher,
        *,
        poll_interval: float = 0.5,
        batch_size: int = 100,
        before_mark: Callable[[str], Awaitable[None]] | None = None,
        retention: timedelta = timedelta(days=7),
        tracer: Tracer | None = None,
        claim: timedelta = CLAIM,
    ) -> None:
        self.db = db
        self.publish = publish
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        # Test hook: runs after a successful publish and before the row is marked sent.
        self.before_mark = before_mark
        self.retention = retention
        self.tracer = tracer
        self.claim = Claim(db, outbox, outbox.c.published_at, lease=claim)
        self._wake = asyncio.Event()
        self._last_prune = 0.0
        self.published = 0

    def notify(self) -> None:
        """Producers call this after commit so the relay does not wait for its next poll."""
        self._wake.set()

    async def relay_once(self) -> int:
        rows = await self.claim.take(self.batch_size)
        sent = 0
        for row in rows:
            if not self.claim.holds():  # the rest is given back and claimed afresh next round
                await self.claim.release()
                break
            # The row was validated when written; publish it as stored (re-validating here
            # would let one row that no longer fits a changed model block the whole outbox).
            stored = dict(row.body)
            carrier = stored.pop(TRACE_KEY, None) or {}
            body = json.dumps(stored, separators=(",", ":")).encode()
            try:
                with publish_span(self.tracer, row.subject, carrier) as trace_headers:
                    # The correlation id rides in the headers too, so tools that never parse
                    # the body (nats CLI, FastStream's own logs) can follow a submission.
                    headers = {**trace_headers, "Nats-Msg-Id": row.event_id,
                               "correlation_id": row.correlation_id or row.event_id}
                    await self.publish(row.subject, body, headers)
            except Exception as exc:  # broker down: keep the row, try again later
                log.warning("outbox.publish_failed", event_id=row.event_id, error=str(exc))
                async with self.db.transaction() as session:
                    await session.execute(
                        update(outbox)
                        .where(outbox.c.seq == row.seq)
                        .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:2000])
                    )
                await self.claim.release()  # any replica may try again, at once
                break
            if self.before_mark is not None:
                await self.before_mark(row.event_id)
            async with self.db.transaction() as session:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.seq == row.seq)
                    .values(published_at=datetime.now(UTC), attempts=outbox.c.attempts + 1)
                )
            sent += 1
        self.published += sent
        return sent

    async def prune(self) -> int:
        """Delete rows published longer ago than the retention period."""
        cutoff = datetime.now(UTC) - self.retention
        async with self.db.transaction() as session:
            result = await session.execute(
                delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
            )
        return result.rowcount or 0

    async def run(self) -> None:
        try:
            await self._run()
        finally:  # stopped on purpose: another replica need not wait for the claim to expire
            try:
                await self.claim.release()
            except Exception as exc:
                log.warning("outbox.release_failed", error=str(exc))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if loop.time() - self._last_prune > 3600:  # hourly is plenty
                self._last_prune = loop.time()
                try:
                    await self.prune()
                except Exception as exc:
                    log.warning("outbox.prune_failed", error=str(exc))
            try:
                sent = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox.relay_error", error=str(exc))
                sent = 0
            if sent >= self.batch_size:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass

    async def pending(self) -> int:
        async with self.db.sessionmaker() as session:
            return await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))


async def backlog(db: Database) -> tuple[int, datetime | None]:
    """Unpublished rows and when the oldest was written (the relay's lag, for /metrics)."""
    async with db.sessionmaker() as session:
        row = (await session.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None)))).one()
    return int(row[0]), row[1]

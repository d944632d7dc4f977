"""Replicas share a service's outbox: two relays, each with its own connection pool to the one
database, publish every row exactly once between them and never the same row at the same
time; the rows of a relay that died are published by the other once its claim expires.
SQLite and real PostgreSQL; the publisher records calls instead of reaching NATS."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from devtools.harness import migrated_database
from shared.infra.db import Database
from shared.infra.outbox import OutboxRelay, add_event
from tests.infra.test_consumer import eventually
from tests.infra.test_outbox import withdrawn


@pytest.fixture
async def replicas(backend, tmp_path):
    """Two handles on one service database, as two replicas' processes would have."""
    async with migrated_database("audit", backend, tmp_path) as db:
        other = Database(db.url.render_as_string(hide_password=False), db.schema)
        yield db, other
        await other.dispose()


class Recorder:
    """A publisher that records which relay published what, and catches two relays
    publishing one row at the same time."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.in_flight: set[str] = set()
        self.overlaps: list[str] = []

    def publisher(self, relay: str):
        async def publish(subject: str, body: bytes, headers: dict[str, str]) -> bool:
            event_id = headers["Nats-Msg-Id"]
            if event_id in self.in_flight:
                self.overlaps.append(event_id)
            self.in_flight.add(event_id)
            try:
                await asyncio.sleep(0.002)  # a broker round trip: the other relay runs meanwhile
            finally:
                self.in_flight.discard(event_id)
            self.calls.append((relay, event_id))
            return False

        return publish


async def write(db: Database, first: int, count: int) -> list[str]:
    events = [withdrawn(i) for i in range(first, first + count)]
    async with db.transaction() as session:
        for e in events:
            await add_event(session, e)
    return [str(e.event_id) for e in events]


async def test_two_relays_publish_every_row_once_between_them(replicas):
    one_db, two_db = replicas
    recorder = Recorder()
    one = OutboxRelay(one_db, recorder.publisher("one"), batch_size=10, poll_interval=0.05)
    two = OutboxRelay(two_db, recorder.publisher("two"), batch_size=10, poll_interval=0.05)
    written = await write(one_db, 0, 100)
    tasks = [asyncio.create_task(one.run()), asyncio.create_task(two.run())]
    try:
        written += await write(two_db, 100, 100)  # more arrives while both run
        one.notify(), two.notify()
        await eventually(lambda: _drained(one), timeout=60)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    published = Counter(event_id for _, event_id in recorder.calls)
    assert sorted(published) == sorted(written) and set(published.values()) == {1}  # each once
    assert recorder.overlaps == []
    by_relay = Counter(relay for relay, _ in recorder.calls)
    assert by_relay["one"] and by_relay["two"], by_relay  # both took a share
    assert (one.published, two.published) == (by_relay["one"], by_relay["two"])


async def test_a_dead_relays_rows_are_published_by_the_other_once_its_claim_expires(replicas):
    one_db, two_db = replicas
    recorder = Recorder()
    [event_id] = await write(one_db, 0, 1)
    dead = OutboxRelay(one_db, recorder.publisher("dead"), claim=timedelta(seconds=4))
    assert len(await dead.claim.take(10)) == 1  # took the row, then its process was killed

    survivor = OutboxRelay(two_db, recorder.publisher("survivor"))
    assert await survivor.relay_once() == 0  # the claim still holds
    assert await eventually(survivor.relay_once) == 1  # ... until it expires
    assert recorder.calls == [("survivor", event_id)] and await survivor.pending() == 0


async def test_a_relay_that_stops_gives_its_rows_back_at_once(replicas):
    one_db, two_db = replicas
    recorder = Recorder()
    await write(one_db, 0, 3)
    publishing, never = asyncio.Event(), asyncio.Event()

    async def stuck(subject: str, body: bytes, headers: dict[str, str]) -> bool:
        publishing.set()
        await never.wait()
        return False

    stopping = OutboxRelay(one_db, stuck)
    task = asyncio.create_task(stopping.run())
    await asyncio.wait_for(publishing.wait(), 10)  # all three claimed, the first on its way
    task.cancel()  # shut down on purpose (a rolling update)
    await asyncio.gather(task, return_exceptions=True)
    assert await OutboxRelay(two_db, recorder.publisher("next")).relay_once() == 3


async def _drained(relay: OutboxRelay) -> bool:
    return await relay.pending() == 0

"""The outbox relay against real NATS JetStream and both databases."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, select
from datetime import UTC, datetime, timedelta

from shared.contracts.events import Envelope, Subject, SubmissionWithdrawn, make_event
from shared.infra.broker import declare_stream, jetstream_publisher, make_broker
from shared.infra.outbox import OutboxRelay, add_event
from shared.infra.settings import NatsSettings
from shared.infra.tables import outbox
from devtools.harness import migrated_database
from tests.infra.test_consumer import eventually


class RelayCrashed(Exception):
    pass


@pytest.fixture
async def db(backend, tmp_path):
    async with migrated_database("audit", backend, tmp_path) as database:
        yield database


@pytest.fixture
async def jetstream(nats_server):
    settings = NatsSettings(url=nats_server.url)
    await declare_stream(settings)
    broker = make_broker(settings)
    await broker.connect()
    nc = await nats.connect(nats_server.url)
    yield settings, broker, nc.jetstream()
    await nc.close()
    await broker.stop()


async def stream_events(js, subject: str, headers: list | None = None) -> list[Envelope]:
    """Everything the stream holds on a subject, read with an ephemeral consumer."""
    sub = await js.pull_subscribe(subject, durable=None, stream="WWC")
    found: list[Envelope] = []
    while True:
        try:
            msgs = await sub.fetch(50, timeout=0.5)
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
            break
        for m in msgs:
            found.append(Envelope.model_validate_json(m.data))
            if headers is not None:
                headers.append(dict(m.headers or {}))
            await m.ack()
    await sub.unsubscribe()
    return found


def withdrawn(i: int) -> Envelope:
    return make_event(Subject.SUBMISSION_WITHDRAWN, SubmissionWithdrawn(submission_id=f"s{i}", city_id="c"),
                      submission_id=f"s{i}", correlation_id=f"corr-{i}")


async def test_committed_event_is_published_and_marked(db, jetstream):
    settings, broker, js = jetstream
    async with db.transaction() as session:
        await add_event(session, withdrawn(1))
    relay = OutboxRelay(db, await jetstream_publisher(broker, settings))
    assert await relay.relay_once() == 1
    assert await relay.pending() == 0
    headers: list[dict] = []
    events = await stream_events(js, Subject.SUBMISSION_WITHDRAWN, headers)
    assert [e.submission_id for e in events] == ["s1"]
    assert events[0].correlation_id == "corr-1"
    assert headers[0]["Nats-Msg-Id"] == str(events[0].event_id)
    assert headers[0]["correlation_id"] == "corr-1"


async def test_rolled_back_transaction_publishes_nothing(db, jetstream):
    settings, broker, js = jetstream
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await add_event(session, withdrawn(2))
            raise RuntimeError("use case failed after writing its event")
    relay = OutboxRelay(db, await jetstream_publisher(broker, settings))
    assert await relay.relay_once() == 0
    assert await stream_events(js, Subject.SUBMISSION_WITHDRAWN) == []


async def test_relay_killed_between_publish_and_mark_delivers_once(db, jetstream):
    """The relay dies after JetStream has the event but before the row is marked sent; once
    its claim expires a new relay publishes it again and the duplicate window (Nats-Msg-Id)
    keeps one copy."""
    settings, broker, js = jetstream
    async with db.transaction() as session:
        for i in range(3):
            await add_event(session, withdrawn(10 + i))

    async def crash(event_id: str) -> None:
        raise RelayCrashed(event_id)

    publish = await jetstream_publisher(broker, settings)
    doomed = OutboxRelay(db, publish, before_mark=crash, claim=timedelta(seconds=1))
    with pytest.raises(RelayCrashed):
        await doomed.relay_once()
    assert await doomed.pending() == 3  # nothing marked

    survivor = OutboxRelay(db, publish)
    assert await survivor.relay_once() == 0  # the dead relay's claim still holds
    assert await eventually(survivor.relay_once) == 3
    events = await stream_events(js, Subject.SUBMISSION_WITHDRAWN)
    assert sorted(e.submission_id for e in events) == ["s10", "s11", "s12"]


async def test_relay_killed_between_commit_and_publish_delivers_once(db, jetstream):
    """The producer commits, the relay task is cancelled before it publishes; after a
    restart the event arrives, once."""
    settings, broker, js = jetstream
    publish_started = asyncio.Event()
    release = asyncio.Event()
    real_publish = await jetstream_publisher(broker, settings)

    async def slow_publish(subject, body, headers):
        publish_started.set()
        await release.wait()
        return await real_publish(subject, body, headers)

    relay = OutboxRelay(db, slow_publish, poll_interval=0.05)
    task = asyncio.create_task(relay.run())
    async with db.transaction() as session:
        await add_event(session, withdrawn(20))
    relay.notify()
    await asyncio.wait_for(publish_started.wait(), 5)
    task.cancel()  # stopped here (a stop gives its claim back: the restart need not wait)
    await asyncio.gather(task, return_exceptions=True)
    assert await stream_events(js, Subject.SUBMISSION_WITHDRAWN) == []

    restarted = OutboxRelay(db, real_publish)
    assert await restarted.relay_once() == 1
    events = await stream_events(js, Subject.SUBMISSION_WITHDRAWN)
    assert [e.submission_id for e in events] == ["s20"]


async def test_broker_down_keeps_the_row_for_later(db, jetstream):
    settings, broker, js = jetstream
    async with db.transaction() as session:
        await add_event(session, withdrawn(30))

    async def down(subject, body, headers):
        raise ConnectionError("nats unreachable")

    assert await OutboxRelay(db, down).relay_once() == 0
    async with db.sessionmaker() as session:
        row = (await session.execute(select(outbox.c.attempts, outbox.c.last_error))).one()
    assert row.attempts == 1 and "unreachable" in row.last_error
    assert await OutboxRelay(db, await jetstream_publisher(broker, settings)).relay_once() == 1
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) == 0


@pytest.mark.parametrize("moment", ["after-commit", "after-publish"])
async def test_relay_process_killed_then_restarted_delivers_once(db, jetstream, moment):
    """A real process is SIGKILLed between commit and publish, or between publish and
    marking the row sent; a new relay then delivers the event exactly once."""
    settings, broker, js = jetstream
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.infra.relay_victim", moment, db.url.render_as_string(hide_password=False),
        db.schema or "", settings.url, f"killed-{moment}",
        cwd=Path(__file__).resolve().parents[2], stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    published_before = await stream_events(js, Subject.SUBMISSION_WITHDRAWN)
    assert len(published_before) == (1 if moment == "after-publish" else 0)

    relay = OutboxRelay(db, await jetstream_publisher(broker, settings))
    assert await relay.pending() == 1  # the row was never marked sent
    assert await eventually(relay.relay_once) == 1  # once the victim's claim has expired
    events = await stream_events(js, Subject.SUBMISSION_WITHDRAWN)  # the whole stream
    assert [e.submission_id for e in events] == [f"killed-{moment}"]


async def test_published_rows_are_pruned_after_retention_and_pending_ones_never(db, jetstream):
    from sqlalchemy import update

    settings, broker, _ = jetstream
    async with db.transaction() as session:
        for i in range(3):
            await add_event(session, withdrawn(40 + i))
    relay = OutboxRelay(db, await jetstream_publisher(broker, settings), retention=timedelta(hours=1))
    await relay.relay_once()
    async with db.transaction() as session:
        await add_event(session, withdrawn(50))  # still pending
        old = datetime.now(UTC) - timedelta(hours=2)
        await session.execute(update(outbox).where(outbox.c.published_at.is_not(None))
                              .where(outbox.c.body["submission_id"].as_string() != "s42").values(published_at=old))
    assert await relay.prune() == 2
    async with db.sessionmaker() as session:
        left = (await session.execute(select(outbox.c.body))).all()
    assert sorted(r.body["submission_id"] for r in left) == ["s42", "s50"]

"""Idempotent consumers, bounded redelivery and parking, against real NATS."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from shared.contracts.events import Subject, SubmissionWithdrawn, make_event
from shared.infra.consumer import EventConsumer
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime
from shared.web.app import create_app
from shared.infra.tables import processed_events
from devtools.harness import service_settings


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Wait until `predicate()` is true; the failure names what was awaited and its last answer."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            what = getattr(predicate, "__qualname__", repr(predicate))
            raise AssertionError(f"condition not met within {timeout}s: {what} (last: {result!r:.300})")
        await asyncio.sleep(interval)


@pytest.fixture
async def runtime(infra, backend, tmp_path):
    settings = service_settings("audit", infra, backend=backend, tmp=tmp_path, tag=tmp_path.name[-8:].replace("-", ""))
    rt = ServiceRuntime(settings)
    rt.effects = []  # type: ignore[attr-defined]
    yield rt
    await rt.stop()
    if backend == "postgres":
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        from devtools.harness import PG_URL

        engine = create_async_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{settings.service.db_schema}" CASCADE'))
        await engine.dispose()


def event(i: int, reason: str = ""):
    return make_event(Subject.SUBMISSION_WITHDRAWN,
                      SubmissionWithdrawn(submission_id=f"s{i}", city_id="c", reason=reason), submission_id=f"s{i}")


async def publish(rt: ServiceRuntime, *events) -> None:
    async with rt.db.transaction() as session:
        for e in events:
            await add_event(session, e)
    rt.wake_relay()


def recording_handler(rt):
    async def handle(session, envelope):
        if envelope.payload.get("reason") == "poison":
            raise RuntimeError("this event always fails")
        rt.effects.append(envelope.submission_id)

    return handle


async def processed_count(rt, consumer: str) -> int:
    async with rt.db.sessionmaker() as session:
        return await session.scalar(
            select(func.count()).select_from(processed_events).where(processed_events.c.consumer == consumer)
        )


async def test_event_handled_once_even_when_delivered_twice(runtime):
    consumer = runtime.consume(Subject.SUBMISSION_WITHDRAWN, recording_handler(runtime))
    await runtime.start()
    e = event(1)
    await publish(runtime, e)
    await eventually(lambda: asyncio.sleep(0, result=runtime.effects == ["s1"]))
    # A redelivery (same event id) processed directly: no second effect, reported as duplicate.
    assert await consumer.process(e) is False
    assert runtime.effects == ["s1"]
    assert await processed_count(runtime, consumer.name) == 1


async def test_concurrent_duplicates_have_one_effect(runtime):
    """Two workers handle the same event at once: the processed_events key lets one win."""
    seen: list[str] = []

    async def slow(session, envelope):
        seen.append(envelope.submission_id)
        await asyncio.sleep(0.2)

    consumer = EventConsumer("audit-test-concurrent", Subject.SUBMISSION_WITHDRAWN, slow, runtime.db)
    from shared.infra import migrations

    await migrations.upgrade(runtime.db, "audit")
    e = event(2)
    results = await asyncio.gather(consumer.process(e), consumer.process(e), return_exceptions=True)
    committed = [r for r in results if r is True]
    assert len(committed) == 1, results
    assert await processed_count(runtime, "audit-test-concurrent") == 1


async def test_poison_event_is_parked_after_max_deliver_and_replayable(runtime, operator_token):
    failing = {"on": True}

    async def handle(session, envelope):
        if failing["on"]:
            raise RuntimeError("downstream rejected it")
        runtime.effects.append(envelope.submission_id)

    runtime.consume(Subject.SUBMISSION_WITHDRAWN, handle)
    app = create_app(runtime)
    await runtime.start()
    await publish(runtime, event(3))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit",
                               headers={"authorization": f"Bearer {operator_token}"})

    async def parked():
        r = await client.get("/ops/parked")
        return r.json() if r.status_code == 200 and r.json() else None

    rows = await eventually(parked)
    assert len(rows) == 1
    assert rows[0]["deliveries"] == runtime.settings.nats.max_deliver
    assert "downstream rejected it" in rows[0]["error"]
    assert runtime.effects == []

    failing["on"] = False  # the operator fixed the cause; replay it
    r = await client.post(f"/ops/parked/{rows[0]['id']}/replay")
    assert r.status_code == 200 and r.json()["status"] == "processed"
    assert runtime.effects == ["s3"]
    assert (await client.get("/ops/parked")).json() == []
    again = await client.post(f"/ops/parked/{rows[0]['id']}/replay")
    assert again.json()["status"] == "already_replayed"
    assert runtime.effects == ["s3"]
    await client.aclose()


async def test_unparseable_message_is_parked_at_once(runtime, operator_token):
    runtime.consume(Subject.SUBMISSION_WITHDRAWN, recording_handler(runtime))
    await runtime.start()
    await runtime.broker.publish(b"{not json", Subject.SUBMISSION_WITHDRAWN, stream="WWC",
                                 headers={"Nats-Msg-Id": "garbage-1"})
    from shared.infra.consumer import list_parked

    rows = await eventually(lambda: list_parked(runtime.db))
    assert rows[0]["deliveries"] == 1 and "not a valid event envelope" in rows[0]["error"]


async def test_parked_console_needs_operator(runtime):
    app = create_app(runtime)
    from tests.conftest import token
    from shared.infra.auth import Role

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as client:
        assert (await client.get("/ops/parked")).status_code == 401
        r = await client.get("/ops/parked", headers={"authorization": f"Bearer {token(Role.CITY, 'c1')}"})
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_durable_of_another_shape_is_recreated_and_history_stays_deduplicated(runtime, nats_server):
    """An old pull consumer of the same name (an earlier release) is replaced; events it had
    already handled come again from the stream start and are skipped as duplicates."""
    import nats as nats_client
    from nats.js.api import ConsumerConfig, DeliverPolicy

    from shared.infra.broker import declare_stream

    await declare_stream(runtime.settings.nats)
    consumer = runtime.consume(Subject.SUBMISSION_WITHDRAWN, recording_handler(runtime))
    nc = await nats_client.connect(nats_server.url)
    await nc.jetstream().add_consumer("WWC", ConsumerConfig(durable_name=consumer.name,
                                                            deliver_policy=DeliverPolicy.ALL))
    await nc.close()
    from shared.infra import migrations

    await migrations.upgrade(runtime.db, "audit")
    first = event(7)
    await consumer.process(first)  # handled by the old release
    async with runtime.db.transaction() as session:
        await add_event(session, first)  # ...and it is in the stream
    await runtime.start()
    runtime.wake_relay()
    await publish(runtime, event(8))
    await eventually(lambda: asyncio.sleep(0, result=runtime.effects == ["s7", "s8"]))
    await asyncio.sleep(0.5)
    assert runtime.effects == ["s7", "s8"]  # s7 was redelivered but not handled twice


def test_backoff_doubles_and_is_capped():
    from shared.infra.consumer import backoff
    from shared.infra.settings import NatsSettings

    s = NatsSettings(nack_backoff_seconds=0.5, nack_backoff_max_seconds=60)
    assert [backoff(s, n) for n in (1, 2, 3, 4)] == [0.5, 1, 2, 4]
    assert backoff(s, 30) == 60


async def test_message_is_kept_when_parking_fails(runtime):
    """On the last delivery the database is down too: parking fails, so the message is
    NAKed instead of dropped, and parked on a later delivery."""
    from shared.infra.consumer import list_parked

    runtime.settings.nats.nack_backoff_max_seconds = 0.1

    async def always_fails(session, envelope):
        raise RuntimeError("downstream is down")

    consumer = runtime.consume(Subject.SUBMISSION_WITHDRAWN, always_fails)
    real_park, attempts = consumer.park, []

    async def flaky_park(*args, **kwargs):
        attempts.append(args[-1])
        if len(attempts) == 1:
            raise ConnectionError("database unreachable")
        return await real_park(*args, **kwargs)

    consumer.park = flaky_park
    await runtime.start()
    await publish(runtime, event(9))
    rows = await eventually(lambda: list_parked(runtime.db))
    assert attempts == [3, 4]  # max_deliver is 3 in tests; the 4th delivery parked it
    assert rows[0]["deliveries"] == 4

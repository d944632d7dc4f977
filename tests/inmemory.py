"""A service's event handlers on FastStream's in-memory broker (no NATS server): the same
subscribers its `build` registers, fed by `deliver` as the outbox relay would publish."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from faststream.nats import TestNatsBroker

from shared.contracts.events import Envelope
from shared.infra import migrations
from shared.infra.runtime import ServiceRuntime, Settings
from shared.infra.settings import ServiceSettings


@asynccontextmanager
async def on_test_broker(build: Callable, name: str, tmp_path: Path) -> AsyncIterator[tuple[ServiceRuntime, object]]:
    """The service's runtime and the test broker; its web app is `runtime.app` (served in
    process by `httpx.ASGITransport`: its pages and API read the same database)."""
    settings = Settings(service=ServiceSettings(name=name, db_url=f"sqlite+aiosqlite:///{tmp_path}/{name}.db"))
    runtime, app = build(settings)
    runtime.app = app
    await migrations.upgrade(runtime.db, name)
    runtime.broker.include_router(runtime.router)
    try:
        async with TestNatsBroker(runtime.broker) as broker:
            yield runtime, broker
    finally:
        await runtime.db.dispose()


async def deliver(broker, envelope: Envelope) -> None:
    """As the outbox relay publishes: the envelope's JSON, its id as the dedup header."""
    await broker.publish(envelope.model_dump_json().encode(), envelope.type,
                         headers={"Nats-Msg-Id": str(envelope.event_id)})

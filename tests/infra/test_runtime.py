"""Services start before their dependencies and keep retrying instead of crashing."""

from __future__ import annotations

import httpx

from devtools import devstack
from shared.infra.runtime import ServiceRuntime
from shared.web.app import create_app
from shared.infra.settings import NatsSettings, ServiceSettings, TemporalSettings
from shared.infra.runtime import Settings
from tests.infra.test_consumer import eventually


async def test_service_waits_for_missing_dependencies_then_becomes_ready(tmp_path, temporal_server):
    nats_port, temporal_port = devstack.free_port(), devstack.free_port()
    settings = Settings(
        service=ServiceSettings(name="audit", db_url=f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"),
        nats=NatsSettings(url=f"nats://127.0.0.1:{nats_port}"),
        temporal=TemporalSettings(address=f"127.0.0.1:{temporal_port}"),
    )
    runtime = ServiceRuntime(settings)
    app = create_app(runtime)
    runtime.start_background()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit")
    nats = None
    try:
        assert (await client.get("/healthz")).status_code == 200

        async def db_up_but_not_ready():
            r = await client.get("/readyz")
            return r if r.json()["checks"]["db"] == "ok" else None

        r = await eventually(db_up_but_not_ready)
        assert r.status_code == 503
        assert r.json()["checks"]["nats"].startswith("down")
        assert r.json()["checks"]["temporal"].startswith("down")

        nats = devstack.start_nats(nats_port, tmp_path / "nats")  # NATS arrives late

        async def nats_ok():
            r = await client.get("/readyz")
            return r if r.json()["checks"]["nats"] == "ok" else None

        r = await eventually(nats_ok, timeout=30)
        assert r.status_code == 503  # Temporal is still missing
    finally:
        await client.aclose()
        await runtime.stop()
        if nats:
            nats.stop()

"""/readyz rides out a slow answer on a busy machine, but reports a real outage."""

from __future__ import annotations

import asyncio

from shared.infra.runtime import ServiceRuntime, Settings
from shared.infra.settings import ServiceSettings


def runtime(tmp_path, grace: float) -> ServiceRuntime:
    service = ServiceSettings(name="audit", db_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
                              readiness_grace_seconds=grace, readiness_probe_timeout_seconds=0.05)
    rt = ServiceRuntime(Settings(service=service))
    rt.ready.update(db=True, nats=True, temporal=True)

    async def fine() -> None:
        await asyncio.sleep(0)

    rt.db.ping = rt._ping_nats = rt._ping_temporal = fine  # type: ignore[method-assign]
    return rt


async def slow() -> None:
    await asyncio.sleep(1)  # longer than the probe timeout: the probe fails


async def test_a_slow_probe_after_a_good_one_keeps_the_service_ready(tmp_path):
    rt = runtime(tmp_path, grace=60)
    assert await rt.readiness() == {"db": "ok", "nats": "ok", "temporal": "ok"}
    rt._ping_temporal = slow  # type: ignore[method-assign]
    assert (await rt.readiness())["temporal"] == "ok (slow)"


async def test_failures_longer_than_the_grace_period_are_an_outage(tmp_path):
    rt = runtime(tmp_path, grace=0)
    assert (await rt.readiness())["temporal"] == "ok"
    rt._ping_temporal = slow  # type: ignore[method-assign]
    assert (await rt.readiness())["temporal"].startswith("down")


async def test_a_dependency_never_reached_is_down_at_once(tmp_path):
    rt = runtime(tmp_path, grace=60)
    rt._ping_nats = slow  # type: ignore[method-assign]
    assert (await rt.readiness())["nats"].startswith("down")

"""`GET /metrics` on every service, read as Prometheus reads it: requests by route
template, events consumed and parked, the outbox backlog, activity outcomes and Temporal's
own worker metrics, with real NATS, Temporal and databases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from devtools.harness import Stack, service_settings
from shared.infra import migrations
from shared.infra.auth import Role
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime
from shared.web.app import create_app
from shared.infra.settings import AuthSettings, SERVICES, TelemetrySettings
from shared.infra.tables import outbox
from shared.infra.tracing import Tracing
from shared.infra.orm import utcnow
from tests.conftest import token
from tests.infra.telemetry_workflow import ACTIVITIES, ProbeInput, ProbeWorkflow
from tests.infra.test_consumer import event, eventually, publish, recording_handler, runtime  # noqa: F401

OPERATOR = token(Role.OPERATOR, sub="operator-1")


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics as {(sample name, labels): value}, parsed like Prometheus does."""
    r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float | None:
    """The sample whose labels include `labels` (exactly one), or None."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None


def label_values(samples: dict) -> set[str]:
    return {v for (_, ls) in samples for _, v in ls}


# --- every service ------------------------------------------------------------------------


@pytest.fixture
async def five(infra, tmp_path):
    stack = await Stack(infra=infra, backend="sqlite", tmp=tmp_path).start()
    yield stack
    await stack.stop()


async def test_every_service_counts_requests_by_route_template_without_ids(five):
    city = await five.register_city({
        "name": "Springfield", "state": "IL", "country": "US", "population": 116_250,
        "contact_name": "Jordan Lee", "contact_email": "jordan@springfield.example",
        "password": "correct-horse-battery"})
    city_id = city["city"]["id"]
    async with five.client("intake", city["token"]["access_token"]) as c:
        assert (await c.get(f"/api/v1/cities/{city_id}")).status_code == 200
    parked_id, stray = 987_654_321, uuid.uuid4().hex
    for name in SERVICES:
        async with five.client(name, OPERATOR) as client:
            # A route with an id in its path, a path no route matches, and an email in a query.
            assert (await client.post(f"/ops/parked/{parked_id}/replay")).status_code == 404
            assert (await client.get(f"/nowhere/{stray}")).status_code == 404
            assert (await client.get("/healthz", params={"who": "jordan@springfield.example"})).status_code == 200
            samples = await scrape(client)
            service = {"service": name}
            replay = {**service, "route": "/ops/parked/{parked_id}/replay", "method": "POST", "status": "404"}
            assert value(samples, "wwc_http_request_duration_seconds_count", **replay) == 1
            assert value(samples, "wwc_http_request_duration_seconds_bucket", **replay, le="+Inf") == 1
            assert value(samples, "wwc_http_request_duration_seconds_bucket", **replay, le="10.0") == 1
            assert value(samples, "wwc_http_request_duration_seconds_count", **service, route="(unmatched)",
                         status="404") == 1
            assert value(samples, "wwc_http_request_duration_seconds_count", **service, route="/healthz",
                         status="200") == 1
            assert value(samples, "wwc_outbox_backlog", **service) is not None
            assert value(samples, "wwc_dependency_up", **service, dependency="db") == 1
            assert value(samples, "process_resident_memory_bytes") is not None
            labels = label_values(samples)
            for secret in (str(parked_id), stray, city_id, "jordan@springfield.example", "Springfield"):
                assert not any(secret in v for v in labels), f"{secret} leaked into a label on {name}"
            assert not any("@" in v for v in labels)
    async with five.client("intake", OPERATOR) as client:
        samples = await scrape(client)
    assert value(samples, "wwc_http_request_duration_seconds_count", service="intake",
                 route="/api/v1/cities/{city_id}", method="GET", status="200") == 1


# --- access ---------------------------------------------------------------------------------


def bare_runtime(tmp_path, *, metrics_token: str = "") -> ServiceRuntime:
    from shared.infra.runtime import Settings
    from shared.infra.settings import ServiceSettings

    return ServiceRuntime(Settings(
        service=ServiceSettings(name="scoring", db_url=f"sqlite+aiosqlite:///{tmp_path / 'scoring.db'}",
                                readiness_probe_timeout_seconds=1),
        auth=AuthSettings(secret="a-real-secret-for-this-test-0123456789abcdef"),
        telemetry=TelemetrySettings(metrics_token=metrics_token)))


async def get_metrics(rt: ServiceRuntime, **headers: str) -> httpx.Response:
    """/metrics of a service that was never started (its dependencies all down)."""
    app = create_app(rt)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scoring") as c:
            return await c.get("/metrics", headers=headers)
    finally:
        await rt.db.dispose()


async def test_metrics_are_open_in_development_and_need_the_scrape_token_once_set(tmp_path):
    assert (await get_metrics(bare_runtime(tmp_path))).status_code == 200
    guarded = "scrape-token-0123456789"
    assert (await get_metrics(bare_runtime(tmp_path, metrics_token=guarded))).status_code == 401
    for wrong in ("Bearer wrong-token", f"Bearer {OPERATOR}", guarded):  # a JWT is not the scrape token
        assert (await get_metrics(bare_runtime(tmp_path, metrics_token=guarded),
                                  authorization=wrong)).status_code == 401
    r = await get_metrics(bare_runtime(tmp_path, metrics_token=guarded), authorization=f"Bearer {guarded}")
    assert r.status_code == 200 and "wwc_outbox_backlog" in r.text


async def test_metrics_are_closed_in_production_without_a_scrape_token(tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_ENV", "production")
    r = await get_metrics(bare_runtime(tmp_path))
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    guarded = "scrape-token-0123456789"
    r = await get_metrics(bare_runtime(tmp_path, metrics_token=guarded), authorization=f"Bearer {guarded}")
    assert r.status_code == 200


# --- events and the outbox ------------------------------------------------------------------


def metrics_client(rt: ServiceRuntime) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rt)), base_url="http://audit")


async def test_consumed_duplicate_failed_and_parked_events_are_counted(runtime):  # noqa: F811
    consumer = runtime.consume("wwc.intake.submission.withdrawn", recording_handler(runtime))
    await runtime.start()
    good, poison = event(1), event(2, reason="poison")
    await publish(runtime, good, poison)
    await eventually(lambda: asyncio.sleep(0, result=runtime.effects == ["s1"]))
    assert await consumer.process(good) is False  # a redelivery: no effect
    labels = {"service": "audit", "consumer": consumer.name, "subject": consumer.subject}
    async with metrics_client(runtime) as client:
        async def parked():
            samples = await scrape(client)
            return samples if value(samples, "wwc_events_parked_total", **labels) else None

        samples = await eventually(parked)
    assert value(samples, "wwc_events_consumed_total", **labels, outcome="processed") == 1
    assert value(samples, "wwc_events_consumed_total", **labels, outcome="duplicate") == 1
    # max_deliver is 3 in tests: three failed deliveries, the last one parked it.
    assert value(samples, "wwc_events_consumed_total", **labels, outcome="failed") == 3
    assert value(samples, "wwc_events_parked_total", **labels) == 1


async def test_outbox_backlog_rises_while_the_relay_is_stopped_and_falls_after(runtime):  # noqa: F811
    await migrations.upgrade(runtime.db, "audit")  # the database, but no relay running yet
    async with runtime.db.transaction() as session:
        for i in range(3):
            await add_event(session, event(20 + i))
        await session.execute(update(outbox).values(created_at=utcnow() - timedelta(minutes=5)))
    async with metrics_client(runtime) as client:
        samples = await scrape(client)
        assert value(samples, "wwc_outbox_backlog", service="audit") == 3
        assert value(samples, "wwc_outbox_oldest_age_seconds", service="audit") >= 300
        assert value(samples, "wwc_dependency_up", service="audit", dependency="nats") == 0

        await runtime.start()  # the relay runs and drains the backlog

        async def drained():
            samples = await scrape(client)
            return samples if value(samples, "wwc_outbox_backlog", service="audit") == 0 else None

        samples = await eventually(drained)
    assert value(samples, "wwc_outbox_oldest_age_seconds", service="audit") == 0
    assert value(samples, "wwc_dependency_up", service="audit", dependency="nats") == 1


# --- activities and Temporal's own metrics ------------------------------------------------------


@pytest.fixture
async def probe_runtime(infra, tmp_path):
    """A service whose worker runs the probe workflow and its three activities."""
    settings = service_settings("scoring", infra, backend="sqlite", tmp=tmp_path, tag=uuid.uuid4().hex[:8])
    rt = ServiceRuntime(settings, tracing=Tracing("scoring"))
    rt.workflows, rt.activities = [ProbeWorkflow], list(ACTIVITIES)
    await rt.start()
    yield rt
    await rt.stop()


async def test_activity_outcomes_and_temporal_worker_metrics(probe_runtime):
    rt = probe_runtime
    result = await rt.temporal_client.execute_workflow(
        ProbeWorkflow.run, ProbeInput(correlation_id="c-1"), id=f"probe-{uuid.uuid4().hex}",
        task_queue=rt.task_queue)
    assert result == ["ok", "ok", "failed"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rt)), base_url="http://s") as c:
        samples = await scrape(c)
        # Prometheus asks for OpenMetrics first: the same samples, valid for its stricter parser.
        r = await c.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
        assert r.headers["content-type"].startswith("application/openmetrics-text")
        names = {s.name for f in openmetrics_families(r.text) for s in f.samples}
        assert {"wwc_activity_duration_seconds_count", "temporal_workflow_completed_total"} <= names
    name, mine = "wwc_activity_duration_seconds_count", {"service": "scoring"}
    assert value(samples, name, **mine, activity="probe.ok", outcome="completed") == 1
    assert value(samples, name, **mine, activity="probe.flaky", outcome="retrying") == 1
    assert value(samples, name, **mine, activity="probe.flaky", outcome="completed") == 1
    assert value(samples, name, **mine, activity="probe.bad", outcome="failed") == 1
    # Temporal's own: this worker's queue, in seconds, with the service label.
    queue = {**mine, "task_queue": rt.task_queue}
    assert value(samples, "temporal_workflow_completed_total", **queue, workflow_type="TelemetryProbe") == 1
    assert value(samples, "temporal_activity_execution_latency_seconds_count", **queue,
                 activity_type="probe.ok") == 1
    assert value(samples, "temporal_worker_task_slots_available", **queue, worker_type="ActivityWorker") > 0

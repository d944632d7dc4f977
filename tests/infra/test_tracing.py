"""Traces across HTTP, NATS and Temporal with the correlation id — and nothing at all
when no endpoint is configured. Real NATS and Temporal; spans read from an in-memory
exporter in place of the OTLP one."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import APIRouter, Request
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from devtools.harness import service_settings
from shared.contracts.events import Subject, SubmissionWithdrawn, make_event
from shared.infra.outbox import TRACE_KEY, add_event
from shared.infra.runtime import ServiceRuntime
from shared.web.app import create_app
from shared.infra.settings import TelemetrySettings
from shared.infra.tables import outbox
from shared.infra.tracing import CORRELATION_ID, Tracing
from shared.web.deps import Runtime
from tests.infra.telemetry_workflow import ACTIVITIES, ProbeInput, ProbeWorkflow
from tests.infra.test_consumer import eventually

CID = "corr-trace-0123456789"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def withdrawing_router() -> APIRouter:
    """An operation that changes state and records the fact, as every use case does."""
    router = APIRouter()

    @router.post("/things/{thing_id}/withdraw", status_code=202)
    async def withdraw(thing_id: str, request: Request, runtime: Runtime) -> dict:
        async with runtime.db.transaction() as session:
            await add_event(session, make_event(
                Subject.SUBMISSION_WITHDRAWN, SubmissionWithdrawn(submission_id=thing_id, city_id="c"),
                submission_id=thing_id, correlation_id=request.state.correlation_id))
        runtime.wake_relay()
        return {}

    return router


@pytest.fixture
async def runtimes(infra, tmp_path):
    """Builds ServiceRuntimes on the test's NATS and Temporal; stops them at the end."""
    made: list[ServiceRuntime] = []
    tag = uuid.uuid4().hex[:8]

    def make(name: str, tracing: Tracing | None = None) -> ServiceRuntime:
        rt = ServiceRuntime(service_settings(name, infra, backend="sqlite", tmp=tmp_path, tag=tag), tracing=tracing)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        await rt.stop()


def spans_by_kind(*exporters: InMemorySpanExporter) -> dict[SpanKind, list]:
    found: dict[SpanKind, list] = {}
    for exporter in exporters:
        for span in exporter.get_finished_spans():
            found.setdefault(span.kind, []).append(span)
    return found


async def test_a_request_its_event_and_the_consumer_that_handles_it_are_one_trace(runtimes):
    intake_spans, audit_spans = InMemorySpanExporter(), InMemorySpanExporter()
    producer = runtimes("intake", Tracing("intake", intake_spans))
    consumer_rt = runtimes("audit", Tracing("audit", audit_spans))
    handled: list[str] = []

    async def handle(session, envelope):
        handled.append(envelope.correlation_id)

    consumer_rt.consume(Subject.SUBMISSION_WITHDRAWN, handle)
    app = create_app(producer, [withdrawing_router()])
    await producer.start()
    await consumer_rt.start()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        r = await client.post("/things/t-1/withdraw", headers={
            "x-correlation-id": CID, "traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"})
    assert r.status_code == 202
    await eventually(lambda: asyncio.sleep(0, result=handled == [CID]))

    async def all_three_ended():
        # The consumer's span ends after the handler returns (and the message is acked):
        # on a busy machine that may be a moment after `handled` is seen.
        producer.tracing.provider.force_flush()
        consumer_rt.tracing.provider.force_flush()
        found = spans_by_kind(intake_spans, audit_spans)
        return found if all(found.get(k) for k in (SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER)) else None

    spans = await eventually(all_three_ended)
    [server] = spans[SpanKind.SERVER]
    [published] = spans[SpanKind.PRODUCER]
    [consumed] = spans[SpanKind.CONSUMER]
    assert server.name == "POST /things/{thing_id}/withdraw"
    assert published.name == f"{Subject.SUBMISSION_WITHDRAWN} publish"
    assert consumed.name == f"{Subject.SUBMISSION_WITHDRAWN} process"
    # One trace, the caller's, hop by hop: HTTP -> outbox relay -> NATS -> consumer.
    assert {format(s.context.trace_id, "032x") for s in (server, published, consumed)} == {CALLER_TRACE}
    assert published.parent.span_id == server.context.span_id
    assert consumed.parent.span_id == published.context.span_id
    assert server.attributes[CORRELATION_ID] == CID
    assert consumed.attributes[CORRELATION_ID] == CID
    assert consumed.attributes["wwc.outcome"] == "processed"
    assert server.resource.attributes["service.name"] == "wwc-intake"
    assert consumed.resource.attributes["service.name"] == "wwc-audit"


async def test_a_workflow_and_its_activities_continue_the_callers_trace(runtimes):
    spans = InMemorySpanExporter()
    rt = runtimes("scoring", Tracing("scoring", spans))
    rt.workflows, rt.activities = [ProbeWorkflow], list(ACTIVITIES)
    await rt.start()
    with rt.tracing.tracer.start_as_current_span("operator asks") as root:
        await rt.temporal_client.execute_workflow(ProbeWorkflow.run, ProbeInput(correlation_id=CID),
                                                  id=f"probe-{uuid.uuid4().hex}", task_queue=rt.task_queue)
    rt.tracing.provider.force_flush()
    finished = {s.name: s for s in spans.get_finished_spans()}
    for name in ("StartWorkflow:TelemetryProbe", "RunWorkflow:TelemetryProbe", "StartActivity:probe.ok",
                 "RunActivity:probe.ok"):
        assert finished[name].context.trace_id == root.get_span_context().trace_id, name
    assert finished["RunActivity:probe.ok"].attributes[CORRELATION_ID] == CID


async def test_without_an_endpoint_nothing_is_traced(runtimes, monkeypatch):
    for name in ("WWC_OTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert TelemetrySettings().otel_endpoint == ""
    rt = runtimes("intake")
    assert rt.tracing.provider is None and rt.tracing.tracer is None
    assert rt.tracing.temporal_interceptors() == []
    app = create_app(rt, [withdrawing_router()])
    await rt.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        # Even a caller's trace context is not carried on: there is no pipeline to carry it.
        r = await client.post("/things/t-2/withdraw", headers={
            "traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"})
    assert r.status_code == 202
    async with rt.db.sessionmaker() as session:
        [body] = (await session.execute(select(outbox.c.body))).scalars().all()
    assert TRACE_KEY not in body
    # The process-wide provider is never installed by a service.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)

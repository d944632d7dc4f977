"""OpenTelemetry traces of one service — or nothing at all.

With an OTLP endpoint (`WWC_OTEL_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`) each service
gets its own tracer provider (the harness runs five services in one process, so the
global provider is never set) and a trace follows a fact across every hop:

* HTTP: FastAPI's native telemetry makes the server span (W3C `traceparent` in, route
  template as the name); the request middleware adds the correlation id.
* NATS: `add_event` keeps the producer's context with the outbox row (`carrier`), the
  relay publishes it in a PRODUCER span with `traceparent` in the message headers, and
  the consumer handles the message in a CONSUMER span continuing it.
* Temporal: temporalio's `TracingInterceptor` on the client (workers inherit it) carries
  the context from a start or signal through the workflow to each activity.

Without an endpoint `Tracing.tracer` is None, every helper here does nothing, and no
provider, processor or exporter is created: the cost is a None check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer

from shared.infra.settings import TelemetrySettings

# Span attribute names of our own facts (OpenTelemetry's semantic conventions for the rest).
CORRELATION_ID = "wwc.correlation_id"
OUTCOME = "wwc.outcome"


class Tracing:
    """One service's tracer, or None when tracing is off."""

    def __init__(self, service: str, exporter: SpanExporter | None = None, *, sample_ratio: float = 1.0) -> None:
        self.provider: TracerProvider | None = None
        self.tracer: Tracer | None = None
        if exporter is not None:
            self.provider = TracerProvider(
                resource=Resource.create({"service.name": f"wwc-{service}", "service.namespace": "wwc"}),
                sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
            )
            self.provider.add_span_processor(BatchSpanProcessor(exporter))
            self.tracer = self.provider.get_tracer("wwc")

    @classmethod
    def from_settings(cls, service: str, settings: TelemetrySettings) -> Tracing:
        if not settings.otel_endpoint:
            return cls(service)
        # Imported only when used: a service without tracing never loads the exporter.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint.rstrip("/") + "/v1/traces")
        return cls(service, exporter, sample_ratio=settings.otel_sample_ratio)

    @property
    def enabled(self) -> bool:
        return self.tracer is not None

    def fastapi_telemetry(self) -> dict[str, Any]:
        """`FastAPI(telemetry=...)`: server spans from this service's provider, or none.
        FastAPI's own metrics and logs stay off (Prometheus and structlog do those)."""
        if self.provider is None:
            return {"tracing": False, "metrics": False, "logs": False, "auto_configure": False}
        return {"tracer_provider": self.provider, "metrics": False, "logs": False,
                "operation_spans": False, "auto_configure": False}

    def temporal_interceptors(self) -> list:
        if self.tracer is None:
            return []
        from temporalio.contrib.opentelemetry import TracingInterceptor

        return [TracingInterceptor(self.tracer)]

    def shutdown(self) -> None:
        """Export what is still buffered (blocking: call it in a thread)."""
        if self.provider is not None:
            self.provider.shutdown()


def annotate(**attributes: Any) -> None:
    """Add attributes (e.g. `wwc.correlation_id`) to the current span, if one records."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({k: v for k, v in attributes.items() if v is not None})


def current_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`, ...); empty without one."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(carrier)
    return carrier


@contextmanager
def publish_span(tracer: Tracer | None, subject: str, carrier: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """The relay publishing one outbox row: a PRODUCER span continuing the producer's
    context; yields the headers that carry it on (the stored carrier when not tracing)."""
    if tracer is None or not carrier:
        yield dict(carrier)
        return
    with tracer.start_as_current_span(f"{subject} publish", context=propagate.extract(carrier),
                                      kind=SpanKind.PRODUCER,
                                      attributes={"messaging.system": "nats",
                                                  "messaging.operation.type": "send",
                                                  "messaging.destination.name": subject}):
        headers: dict[str, str] = {}
        propagate.inject(headers)
        yield headers


@contextmanager
def consumer_span(tracer: Tracer | None, *, consumer: str, subject: str, headers: Mapping[str, str],
                  deliveries: int) -> Iterator[Span | None]:
    """A consumer handling one delivery, continuing the `traceparent` it came with."""
    if tracer is None:
        yield None
        return
    with tracer.start_as_current_span(
        f"{subject} process", context=propagate.extract(dict(headers)), kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "nats", "messaging.operation.type": "process",
                    "messaging.destination.name": subject, "messaging.consumer.group.name": consumer,
                    "messaging.message.id": str(headers.get("Nats-Msg-Id", "")),
                    "messaging.nats.delivery_count": deliveries},
    ) as span:
        yield span


def set_outcome(span: Span | None, outcome: str, error: BaseException | None = None) -> None:
    if span is None:
        return
    span.set_attribute(OUTCOME, outcome)
    if error is not None:
        span.record_exception(error)
        span.set_status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:300])

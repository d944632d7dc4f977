"""Prometheus metrics of one service, served at `GET /metrics` (text format 0.0.4).

Each `ServiceRuntime` owns a `ServiceMetrics` with its own registry (the harness runs five
services in one process, so prometheus_client's global registry is never used) and every
sample carries a `service` label. Labels are low-cardinality by construction: route
templates (never a raw path), known HTTP methods, status codes, consumer and subject
names, activity names, outcomes — never an id, an email or a city name.

What is measured where:

* HTTP: `shared.web.middleware.RequestContextMiddleware` observes every request.
* Events: `shared.infra.consumer.EventConsumer` counts each handling and each parked message.
* Outbox backlog and its oldest row's age, and each dependency's readiness: computed
  when scraped (one indexed COUNT/MIN and the `/readyz` probes), so they stay true while
  the relay or a dependency is down — exactly when they matter.
* Activities: `ActivityMetricsInterceptor` on the service's worker.
* Temporal's own worker and client metrics: temporalio's Runtime telemetry records into
  a `MetricBuffer` that this module drains into the same exposition (`temporal_*`).
  That Runtime is process-wide; each service shows the series of its own task queue and
  those without one (client calls of the whole process: in production one process runs
  one service).
"""

from __future__ import annotations

import asyncio
import bisect
import hmac
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
)
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from shared.infra.auth import InvalidToken, NotAuthenticated
from shared.infra.logging import get_logger
from shared.infra.settings import TelemetrySettings

__all__ = ["ServiceMetrics", "ActivityMetricsInterceptor", "temporal_runtime",
           "scrape_access"]

log = get_logger(__name__)

# Seconds. Requests: most answer in milliseconds; uploads and report downloads take seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Activities range from a status write (ms) to rendering a report (seconds) or mail (a relay's timeout).
ACTIVITY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# Temporal's own latencies: from sub-millisecond polls to long polls (about a minute).
TEMPORAL_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# Anything else a client sends as a method is one label value, not one per invention.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ServiceMetrics:
    """The registry and instruments of one service."""

    def __init__(self, service: str, *, task_queue: str | None = None) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        r = self.registry
        self.http = Histogram(
            "wwc_http_request_duration_seconds",
            "HTTP requests by route template, method and status code (_count: requests).",
            ["service", "route", "method", "status"], buckets=HTTP_BUCKETS, registry=r)
        self.events = Counter(
            "wwc_events_consumed",
            "Deliveries handled by a consumer: processed, duplicate (already processed: no effect) "
            "or failed (NAKed for a retry, or parked once deliveries run out).",
            ["service", "consumer", "subject", "outcome"], registry=r)
        self.parked = Counter(
            "wwc_events_parked", "Messages parked for an operator (GET /ops/parked).",
            ["service", "consumer", "subject"], registry=r)
        self.activities = Histogram(
            "wwc_activity_duration_seconds",
            "Activity attempts run by this service's worker, by outcome: completed, retrying "
            "(Temporal tries again), failed (no retry left, or non-retryable) or cancelled.",
            ["service", "activity", "outcome"], buckets=ACTIVITY_BUCKETS, registry=r)
        self.outbox_backlog = Gauge(
            "wwc_outbox_backlog", "Outbox rows not yet published to NATS.", ["service"], registry=r)
        self.outbox_age = Gauge(
            "wwc_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0: none).",
            ["service"], registry=r)
        self.dependency_up = Gauge(
            "wwc_dependency_up", "1 when a dependency answers its readiness probe (as /readyz).",
            ["service", "dependency"], registry=r)
        if task_queue is not None:
            r.register(_TemporalView(_temporal, service, task_queue))
        self._http_children: dict[tuple[str, str, int], Any] = {}

    # --- recording ---------------------------------------------------------------------

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        child = self._http_children.get(key)
        if child is None:  # label look-up once per (route, method, status), not per request
            child = self.http.labels(self.service, route, method if method in HTTP_METHODS else "OTHER",
                                     str(status))
            self._http_children[key] = child
        child.observe(seconds)

    def event_handled(self, consumer: str, subject: str, outcome: str) -> None:
        self.events.labels(self.service, consumer, subject, outcome).inc()

    def event_parked(self, consumer: str, subject: str) -> None:
        self.parked.labels(self.service, consumer, subject).inc()

    def activity_ran(self, name: str, outcome: str, seconds: float) -> None:
        self.activities.labels(self.service, name, outcome).observe(seconds)

    # --- scraping ----------------------------------------------------------------------

    async def scrape(self, *, readiness: Callable[[], Awaitable[dict[str, str]]],
                     backlog: Callable[[], Awaitable[tuple[int, datetime | None]]],
                     timeout: float, accept: str = "") -> tuple[bytes, str]:
        """Refresh the gauges computed at scrape time, then the exposition (body, content
        type) in the format the scraper's Accept header asks for: Prometheus text 0.0.4
        by default, OpenMetrics when asked. A gauge that cannot be computed (its database
        is down) is NaN rather than a stale value."""
        checks, rows = await asyncio.gather(_bounded(readiness(), timeout), _bounded(backlog(), timeout))
        if isinstance(checks, dict):
            for dependency, state in checks.items():
                self.dependency_up.labels(self.service, dependency).set(1 if state.startswith("ok") else 0)
        if isinstance(rows, tuple):
            count, oldest = rows
            self.outbox_backlog.labels(self.service).set(count)
            self.outbox_age.labels(self.service).set(_age(oldest))
        else:
            self.outbox_backlog.labels(self.service).set(math.nan)
            self.outbox_age.labels(self.service).set(math.nan)
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


async def _bounded(step: Awaitable[Any], timeout: float) -> Any:
    try:
        return await asyncio.wait_for(step, timeout=timeout)
    except Exception as exc:
        log.warning("metrics.scrape_step_failed", error=str(exc)[:200] or type(exc).__name__)
        return None


def _age(oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - oldest).total_seconds())


# --- access ------------------------------------------------------------------------------


def scrape_access(settings: TelemetrySettings, *, production: bool) -> Callable[[Request], None]:
    """Who may read /metrics: with `WWC_METRICS_TOKEN` set, only a bearer of that token (a
    Prometheus `authorization` credential); without it, anyone in development and no
    one in production. The body never holds ids, emails or names, only counts."""
    token = settings.metrics_token.get_secret_value()
    if not token and production:
        log.warning("metrics.closed", hint="set WWC_METRICS_TOKEN to let Prometheus scrape /metrics")

    def check(request: Request) -> None:
        if not token:
            if production:
                raise NotAuthenticated("Metrics need the scrape token (WWC_METRICS_TOKEN), which is not set.")
            return
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not sent:
            raise NotAuthenticated("Send the scrape token (Authorization: Bearer ...).")
        if not hmac.compare_digest(sent.strip().encode(), token.encode()):
            raise InvalidToken("The scrape token is not valid.")

    return check


# --- activities --------------------------------------------------------------------------


class ActivityMetricsInterceptor(Interceptor):
    """Times each activity attempt on this worker and records how it ended."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _MeasuredActivity(next, self.metrics)


class _MeasuredActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: ServiceMetrics) -> None:
        super().__init__(next)
        self.metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await self.next.execute_activity(input)
            outcome = "completed"
            return result
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception as exc:
            outcome = "retrying" if will_retry(info, exc) else "failed"
            raise
        finally:
            self.metrics.activity_ran(info.activity_type, outcome, time.perf_counter() - started)


def will_retry(info: activity.Info, exc: BaseException) -> bool:
    """Whether Temporal schedules another attempt after this failure (timeouts aside)."""
    if isinstance(exc, ApplicationError) and exc.non_retryable:
        return False
    policy = info.retry_policy
    if policy is None:
        return True
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return False
    kind = exc.type if isinstance(exc, ApplicationError) and exc.type else type(exc).__name__
    return kind not in (policy.non_retryable_error_types or ())


# --- Temporal's own metrics ----------------------------------------------------------------


class _TemporalMetrics:
    """temporalio's process-wide Runtime with a MetricBuffer, and the sums drained from it.

    The buffer must be drained regularly (a full one drops updates): every scrape does,
    and each running service's `drain_forever` task."""

    BUFFER_SIZE = 100_000

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._buffer: MetricBuffer | None = None
        self._lock = threading.Lock()
        self._meta: dict[int, tuple[str, int, str]] = {}  # id(metric) -> (name, kind, help)
        self._labels: dict[int, tuple[tuple[str, str], ...]] = {}  # id(attributes) -> labels
        # name -> labels -> value (counter, gauge) or [bucket counts..., sum, count]
        self._series: dict[str, dict[tuple[tuple[str, str], ...], Any]] = {}
        self._kinds: dict[str, tuple[int, str]] = {}

    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._buffer = MetricBuffer(self.BUFFER_SIZE, MetricBufferDurationFormat.SECONDS)
            self._runtime = Runtime(telemetry=TelemetryConfig(metrics=self._buffer, attach_service_name=False))
        return self._runtime

    def drain(self) -> None:
        if self._buffer is None:
            return
        with self._lock:
            for update in self._buffer.retrieve_updates():
                self._apply(update)

    async def drain_forever(self, interval: float = 5.0) -> None:
        while True:
            try:
                self.drain()
            except Exception as exc:  # never let metrics take a service down
                log.warning("metrics.temporal_drain_failed", error=str(exc)[:200])
            await asyncio.sleep(interval)

    def _apply(self, update: Any) -> None:
        meta = self._meta.get(id(update.metric))
        if meta is None:
            m = update.metric
            name = m.name + ("_seconds" if m.unit == "s" and not m.name.endswith("_seconds") else "")
            meta = (name, m.kind, m.description or m.name)
            self._meta[id(m)] = meta
            self._kinds.setdefault(name, (m.kind, meta[2]))
        name, kind, _ = meta
        labels = self._labels.get(id(update.attributes))
        if labels is None:
            labels = tuple(sorted((k, str(v)) for k, v in dict(update.attributes).items()))
            self._labels[id(update.attributes)] = labels
        series = self._series.setdefault(name, {})
        if kind == BUFFERED_METRIC_KIND_COUNTER:
            series[labels] = series.get(labels, 0) + update.value
        elif kind == BUFFERED_METRIC_KIND_GAUGE:
            series[labels] = update.value
        else:
            hist = series.get(labels)
            if hist is None:
                hist = series[labels] = [0] * (len(TEMPORAL_BUCKETS) + 3)
            hist[bisect.bisect_left(TEMPORAL_BUCKETS, update.value)] += 1
            hist[-2] += update.value
            hist[-1] += 1

    def families(self, service: str, task_queue: str) -> Iterable[Metric]:
        with self._lock:
            snapshot = {name: dict(series) for name, series in self._series.items()}
        for name, series in sorted(snapshot.items()):
            kind, help_text = self._kinds[name]
            mtype = "counter" if kind == BUFFERED_METRIC_KIND_COUNTER else \
                "gauge" if kind == BUFFERED_METRIC_KIND_GAUGE else "histogram"
            family = Metric(name, help_text, mtype)
            for labels, value in series.items():
                tags = dict(labels)
                if tags.get("task_queue", task_queue) != task_queue:
                    continue  # another service's worker in this process
                tags["service"] = service
                if mtype == "counter":
                    family.add_sample(name + "_total", tags, value)
                elif mtype == "gauge":
                    family.add_sample(name, tags, value)
                else:
                    cumulative = 0
                    for bound, count in zip((*TEMPORAL_BUCKETS, math.inf), value[:-2], strict=True):
                        cumulative += count
                        family.add_sample(name + "_bucket", {**tags, "le": _le(bound)}, cumulative)
                    family.add_sample(name + "_count", tags, value[-1])
                    family.add_sample(name + "_sum", tags, value[-2])
            if family.samples:
                yield family


def _le(bound: float) -> str:
    return "+Inf" if bound == math.inf else repr(float(bound))


class _TemporalView:
    """One service's view of Temporal's metrics, as a collector of its registry."""

    def __init__(self, source: _TemporalMetrics, service: str, task_queue: str) -> None:
        self.source, self.service, self.task_queue = source, service, task_queue

    def describe(self) -> list:
        return []  # names are known only once Temporal has recorded them

    def collect(self) -> Iterable[Metric]:
        self.source.drain()
        return list(self.source.families(self.service, self.task_queue))


_temporal = _TemporalMetrics()


def temporal_runtime() -> Runtime:
    """The Runtime every Temporal client of this process is created on (its metrics land here)."""
    return _temporal.runtime()


async def drain_temporal_forever() -> None:
    await _temporal.drain_forever()

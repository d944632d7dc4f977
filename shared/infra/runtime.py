"""The composition root every service uses: one process runs the HTTP API, the NATS
subscribers, the outbox relay and the Temporal worker of one service.

Start-up never crashes on a missing dependency: each component is retried with backoff
in the background while `/healthz` answers and `/readyz` says what is still missing.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from faststream.nats import NatsRouter
from temporalio.client import Client
from temporalio.worker import Worker

from shared.infra import migrations, replay, temporal
from shared.infra.broker import (
    declare_stream,
    jetstream_publisher,
    make_broker,
    reconcile_consumers,
    wwc_stream,
)
from shared.infra.consumer import EventConsumer, Handler, register
from shared.infra.db import Database
from shared.infra.logging import get_logger
from shared.infra.metrics import (
    ActivityMetricsInterceptor,
    ServiceMetrics,
    drain_temporal_forever,
)
from shared.infra.outbox import OutboxRelay
from shared.infra.settings import (
    AuthSettings,
    CommonSettings,
    NatsSettings,
    S3Settings,
    ServiceSettings,
    TelemetrySettings,
    TemporalSettings,
)
from shared.infra.storage import ObjectStore
from shared.infra.tracing import Tracing

log = get_logger(__name__)
# Each part of a service's shutdown gets this long (the worker drains running activities).
STOP_TIMEOUT = 10.0
# Activities a worker runs at once by default: the I/O-bound steps of a burst of
# certifications fit, within the default database pool (ServiceSettings.db_pool_size).
DEFAULT_CONCURRENT_ACTIVITIES = 8


@dataclass
class Settings:
    service: ServiceSettings
    nats: NatsSettings = field(default_factory=NatsSettings)
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    s3: S3Settings = field(default_factory=S3Settings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)

    @classmethod
    def load(cls, service: str) -> "Settings":
        return cls(service=ServiceSettings.for_service(service))


async def retry_forever(name: str, attempt: Callable[[], Awaitable[Any]], *, max_delay: float = 10.0) -> Any:
    delay = 0.2
    while True:
        try:
            return await attempt()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("dependency.unavailable", component=name, error=str(exc)[:300], retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


class Relay(Protocol):
    def notify(self) -> None: ...

    async def run(self) -> None: ...


class ServiceRuntime:
    """Holds one service's clients and background tasks; built by `services.<name>.main.build`."""

    def __init__(
        self,
        settings: Settings,
        *,
        uses_storage: bool = False,
        buckets: Sequence[str] = (),
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.service.name
        # Metrics always (a registry of this service's own); traces only when configured.
        self.metrics = ServiceMetrics(self.name, task_queue=self.task_queue)
        self.tracing = tracing or Tracing.from_settings(self.name, settings.telemetry)
        service = settings.service
        self.db = Database(service.db_url, service.db_schema, pool_size=service.db_pool_size,
                           max_overflow=service.db_max_overflow, pool_timeout=service.db_pool_timeout_seconds)
        self.broker = make_broker(settings.nats)
        self.stream = wwc_stream(settings.nats)
        self.router = NatsRouter()
        self.consumers: dict[str, EventConsumer] = {}
        self.storage = ObjectStore(settings.s3) if uses_storage else None
        self.buckets = [self.storage.bucket(b) for b in buckets] if self.storage else []
        self.relay: OutboxRelay | None = None
        self.temporal_client: Client | None = None
        self.worker: Worker | None = None
        self.activities: list[Callable] = []
        self.workflows: list[type] = []
        # Activities the worker runs at once unless the setting says otherwise.
        self.default_concurrent_activities = DEFAULT_CONCURRENT_ACTIVITIES
        # Awaited once every component is up (e.g. starting a pool of worker processes),
        # and called at stop after the worker has drained (shutting that pool down).
        self.on_ready: list[Callable[[], Awaitable[Any]]] = []
        self.on_stop: list[Callable[[], Any]] = []
        # Relays of this service's own tables beside the outbox (e.g. its calls to
        # workflows): woken after every commit, like the outbox relay.
        self.relays: list[Relay] = []
        self.ready: dict[str, bool] = {"db": False, "nats": False, "temporal": False}
        if self.storage:
            self.ready["s3"] = False
        self._tasks: list[asyncio.Task] = []
        self._router_included = False
        self._last_ok: dict[str, float] = {}  # loop time of each dependency's last good probe
        replay.listen(self)  # operators' replay requests for this service's parked messages

    # --- wiring ---------------------------------------------------------------------

    def consume(self, subject: str, handler: Handler, *, name: str | None = None) -> EventConsumer:
        """Subscribe a durable idempotent consumer named `<service>-<subject tail>`."""
        durable = name or f"{self.name}-" + subject.removeprefix("wwc.").replace(".", "-")
        consumer = EventConsumer(durable, subject, handler, self.db, after_commit=[self.wake_relay],
                                 service=self.name, metrics=self.metrics, tracer=self.tracing.tracer)
        self.consumers[durable] = consumer
        register(self.router, consumer, self.settings.nats, self.stream)
        return consumer

    def wake_relay(self) -> None:
        """After a commit: what it wrote to the outbox (and the other relayed tables) goes
        out now rather than at the next poll."""
        if self.relay is not None:
            self.relay.notify()
        for relay in self.relays:
            relay.notify()

    def add_relay(self, relay: Relay, name: str) -> None:
        """Run `relay` in the background once the service is up, woken after commits."""
        self.relays.append(relay)

        async def start() -> None:
            self._tasks.append(asyncio.create_task(relay.run(), name=f"{self.name}-{name}"))

        self.on_ready.append(start)

    @property
    def max_concurrent_activities(self) -> int:
        return self.settings.service.max_concurrent_activities or self.default_concurrent_activities

    @property
    def task_queue(self) -> str:
        return temporal.task_queue(self.settings.temporal, self.name)  # each service's queue is its name

    # --- lifecycle ------------------------------------------------------------------

    async def _start_db(self) -> None:
        if CommonSettings().migrate_on_start:
            await migrations.upgrade(self.db, self.name)
        else:  # a Job runs `wwc db upgrade`: wait for it (retried like any missing dependency)
            await migrations.check_current(self.db, self.name)
        self.ready["db"] = True

    async def _start_nats(self) -> None:
        if not self._router_included:
            self.broker.include_router(self.router)
            self._router_included = True
        # Declare the stream before any subscriber binds to it (and before the relay
        # publishes, for services that only produce).
        await declare_stream(self.settings.nats)
        await reconcile_consumers(self.settings.nats, list(self.consumers), service=self.name)
        await self.broker.connect()
        await self.broker.start()
        self.ready["nats"] = True
        publish = await jetstream_publisher(self.broker, self.settings.nats)
        retention = timedelta(hours=self.settings.nats.outbox_retention_hours)
        self.relay = OutboxRelay(self.db, publish, retention=retention, tracer=self.tracing.tracer)
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.name}-outbox"))

    async def _start_temporal(self) -> None:
        self.temporal_client = await temporal.connect(self.settings.temporal,
                                                      interceptors=self.tracing.temporal_interceptors())
        self._tasks.append(asyncio.create_task(drain_temporal_forever(), name=f"{self.name}-temporal-metrics"))
        if self.activities or self.workflows:
            self._tasks.append(asyncio.create_task(self._run_worker(), name=f"{self.name}-worker"))
        self.ready["temporal"] = True

    def _new_worker(self) -> Worker:
        assert self.temporal_client is not None
        return Worker(
            self.temporal_client,
            task_queue=self.task_queue,
            activities=self.activities,
            workflows=self.workflows,
            max_concurrent_activities=self.max_concurrent_activities,
            max_cached_workflows=self.settings.temporal.max_cached_workflows,
            # Outermost first (the client's tracing interceptor comes before these).
            interceptors=[ActivityMetricsInterceptor(self.metrics), temporal.CorrelationInterceptor(),
                          temporal.HeartbeatInterceptor()],
        )

    async def _run_worker(self) -> None:
        """Keep a worker polling: if it fails (e.g. Temporal gone for too long), report
        not-ready and start a fresh one with backoff, instead of running on without it."""
        delay = 1.0
        while True:
            self.worker = self._new_worker()
            try:
                await self.worker.run()
                return  # shut down on purpose
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.ready["temporal"] = False
                log.error("temporal.worker_failed", error=str(exc)[:500], restart_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                self.ready["temporal"] = True

    async def _start_storage(self) -> None:
        assert self.storage is not None
        for bucket in self.buckets:
            await self.storage.ensure_bucket(bucket)
        self.ready["s3"] = True

    async def _start_all(self) -> None:
        await retry_forever("db", self._start_db)
        steps = [retry_forever("nats", self._start_nats), retry_forever("temporal", self._start_temporal)]
        if self.storage:
            steps.append(retry_forever("s3", self._start_storage))
        await asyncio.gather(*steps)
        for hook in self.on_ready:
            await hook()
        log.info("service.ready", url=self.settings.service.public_url)

    def start_background(self) -> asyncio.Task:
        task = asyncio.create_task(self._start_all(), name=f"{self.name}-start")
        self._tasks.append(task)
        return task

    async def start(self) -> None:
        """Start and wait until every component is up (tests and CLI tools)."""
        await self.start_background()

    async def stop(self) -> None:
        """Drain the worker, stop the background tasks, the broker and the database, each
        within a bound: a stuck part is logged and left behind rather than hanging the
        process's shutdown."""
        if self.worker is not None:
            await self._bounded("worker", self.worker.shutdown())
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
            if stuck:
                log.warning("service.stop_stuck", part="tasks", tasks=sorted(t.get_name() for t in stuck))
        self._tasks.clear()
        for hook in self.on_stop:
            hook()
        await self._bounded("broker", self.broker.stop())
        await self._bounded("db", self.db.dispose())
        if self.tracing.enabled:  # export the spans still buffered
            await self._bounded("tracing", asyncio.to_thread(self.tracing.shutdown))

    async def _bounded(self, part: str, step: Awaitable[Any]) -> None:
        try:
            await asyncio.wait_for(step, timeout=STOP_TIMEOUT)
        except TimeoutError:
            log.warning("service.stop_stuck", part=part)
        except Exception as exc:
            log.warning("service.stop_failed", part=part, error=str(exc)[:200])

    async def readiness(self) -> dict[str, str]:
        """Check live reachability of each dependency, not just that it once started. A
        probe that fails (or is slow) shortly after a success is reported as "ok (slow)";
        only failures lasting `readiness_grace_seconds` make the service not ready."""
        checks: dict[str, str] = {}
        service = self.settings.service
        loop = asyncio.get_running_loop()

        async def check(name: str, probe: Callable[[], Awaitable[Any]]) -> None:
            try:
                await asyncio.wait_for(probe(), timeout=service.readiness_probe_timeout_seconds)
            except Exception as exc:
                last_ok = self._last_ok.get(name)
                if self.ready.get(name) and last_ok is not None and \
                        loop.time() - last_ok < service.readiness_grace_seconds:
                    checks[name] = "ok (slow)"
                else:
                    checks[name] = f"down: {str(exc)[:200] or type(exc).__name__}"
                return
            self._last_ok[name] = loop.time()
            checks[name] = "ok" if self.ready.get(name) else "starting"

        probes: list[Awaitable[None]] = [check("db", self.db.ping)]
        probes.append(check("nats", self._ping_nats))
        probes.append(check("temporal", self._ping_temporal))
        if self.storage:
            probes.append(check("s3", self.storage.ping))
        await asyncio.gather(*probes)
        return checks

    async def _ping_nats(self) -> None:
        if not self.ready["nats"]:
            raise RuntimeError("not connected")
        await self.broker.ping(timeout=1)

    async def _ping_temporal(self) -> None:
        if self.temporal_client is None:
            raise RuntimeError("not connected")
        await self.temporal_client.service_client.check_health()

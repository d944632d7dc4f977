"""What the request middleware's metrics (and tracing, when on) cost per request.

Four FastAPI apps with the same route (`GET /items/{item_id}`, a small JSON answer),
called in-process through ASGI (no network, no HTTP client, so the app is all that is
measured), in alternating rounds so a busy moment of this shared machine hits every
variant alike; each figure is the best round (as `timeit` advises: slower rounds are the
machine's other work, not the code's). The variants:
* bare: FastAPI alone (the baseline);
* context: the request middleware as before metrics (correlation id, security headers);
* metrics: the same middleware timing the request into its Prometheus histogram by route
  template (what every service runs);
* tracing: metrics plus a server span per request from a tracer provider whose exporter
  drops the spans (the cost with tracing on, the collector aside).
"""

from __future__ import annotations

import asyncio
import time

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from shared.infra.metrics import ServiceMetrics
from shared.infra.tracing import Tracing
from shared.web.middleware import RequestContextMiddleware
from bench.people import progress

ROUNDS = 40
PER_ROUND = 500


class _Dropped(SpanExporter):
    def export(self, spans) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _app(*, middleware: bool, metrics: ServiceMetrics | None = None, tracing: Tracing | None = None) -> FastAPI:
    app = FastAPI(telemetry=(tracing or Tracing("bench")).fastapi_telemetry())

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict:
        return {"id": item_id, "ok": True}

    if middleware:
        app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


async def _requests(app: FastAPI, n: int) -> float:
    """Seconds for n sequential requests, each a full ASGI call."""
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    t0 = time.perf_counter()
    for i in range(n):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": f"/items/{i}", "raw_path": f"/items/{i}".encode(),
                 "root_path": "", "query_string": b"", "headers": [(b"host", b"bench")],
                 "client": ("127.0.0.1", 1), "server": ("bench", 80)}
        await app(scope, receive, send)
    return time.perf_counter() - t0


async def run() -> str:
    progress("telemetry: the metrics middleware")
    tracing = Tracing("bench", _Dropped())
    apps = {
        "bare": _app(middleware=False),
        "context": _app(middleware=True),
        "metrics": _app(middleware=True, metrics=ServiceMetrics("bench")),
        "tracing": _app(middleware=True, metrics=ServiceMetrics("bench"), tracing=tracing),
    }
    for app in apps.values():  # warm-up: routes resolved, label children created
        await _requests(app, 200)
    rounds: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(ROUNDS):
        for name, app in apps.items():
            rounds[name].append(await _requests(app, PER_ROUND) / PER_ROUND)
    tracing.shutdown()
    us = {name: min(samples) * 1e6 for name, samples in rounds.items()}
    bare = us["bare"]
    step = _metrics_step_us()
    labels = {"bare": "FastAPI alone (baseline)", "context": "+ request middleware, no metrics",
              "metrics": "+ metrics (every service)", "tracing": "+ metrics and tracing on"}
    rows = "\n".join(f"| {labels[n]} | {us[n]:.0f} µs | {us[n] / bare:.2f}x | {us[n] - bare:+.0f} µs |"
                     for n in apps)
    return f"""### Metrics middleware (`bench/telemetry_bench.py`)

One small JSON route called in-process over ASGI (no network), best of {ROUNDS} alternating
rounds of {PER_ROUND:,} requests per variant:

| app | per request | vs bare | added |
|---|---|---|---|
{rows}

Metrics add **{us["metrics"] - us["context"]:.0f} µs** a request to the middleware; their own work,
timed alone (route template look-up and one histogram observation), is {step:.1f} µs, {step / bare:.1%}
of a bare FastAPI request. With tracing off nothing else is added. Tracing on adds
{us["tracing"] - us["metrics"]:.0f} µs a request for its server span (FastAPI's native telemetry,
before export): sample with `WWC_OTEL_SAMPLE_RATIO` if that matters."""


def _metrics_step_us(n: int = 100_000) -> float:
    """What the middleware does for metrics alone, per request, in a tight loop."""
    app = _app(middleware=True, metrics=ServiceMetrics("bench"))
    middleware = RequestContextMiddleware(app.router, metrics=ServiceMetrics("bench"))
    route = next(r for r in app.routes if getattr(r, "path", "") == "/items/{item_id}")
    scope = {"route": route, "app": app, "method": "GET"}
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            middleware.metrics.observe_http(middleware._template(scope), scope["method"], 200, 0.001)
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


if __name__ == "__main__":
    print(asyncio.run(run()))

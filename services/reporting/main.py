"""Reporting's composition root."""

from __future__ import annotations

from fastapi import FastAPI


from certification import gateway
from shared.contracts.events import Subject
from shared.infra.runtime import ServiceRuntime, Settings
from shared.web.app import create_app
from services.reporting import api, console, subscribers
from services.reporting.operations import api as ops_api
from services.reporting.console import operator
from services.reporting.activities import ReportingActivities
from services.reporting.config import ReportingOptions
from services.reporting.problems import ERRORS
from services.reporting.renders import PRELOAD, REPORTS_BUCKET, Renders
from shared.infra.cpu_pool import CpuPool
from services.reporting.throttle import LookupThrottle
from shared.infra.throttle import platform_throttle


def build(settings: Settings | None = None, options: ReportingOptions | None = None) -> tuple[ServiceRuntime, FastAPI]:
    options = options or ReportingOptions()
    runtime = ServiceRuntime(settings or Settings.load("reporting"), uses_storage=True, buckets=[REPORTS_BUCKET])
    gateway.install(runtime)  # what it tells certification workflows, after commit
    assert runtime.storage is not None
    pool = CpuPool(options.render_pool_size, preload=PRELOAD, name="render")
    renders = Renders(pool, runtime.storage)
    runtime.activities = ReportingActivities(runtime, renders).all()
    runtime.default_concurrent_activities = pool.size  # a render never waits for a process
    runtime.on_ready.append(pool.warm_up)
    runtime.on_stop.append(pool.shutdown)
    runtime.consume(Subject.every(), subscribers.on_any_event, name="reporting-ledger")
    app = create_app(runtime, [api.router, ops_api.router, console.router, operator.router], title="WWC Reporting", errors=ERRORS)
    app.state.renders = renders
    app.state.verify_throttle = LookupThrottle(platform_throttle(), per_client=options.verify_limits_per_client)
    return runtime, app

"""Reporting's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from shared.contracts.events import Subject
from shared.infra.runtime import ServiceRuntime, Settings, create_app
from services.reporting import api, subscribers
from services.reporting.activities import ReportingActivities
from services.reporting.service import REPORTS_BUCKET


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or Settings.load("reporting"), uses_storage=True, buckets=[REPORTS_BUCKET])
    runtime.activities = ReportingActivities(runtime).all()
    runtime.consume(Subject.SUBMISSION_SUBMITTED, subscribers.on_submission_submitted)
    runtime.consume(Subject.STATUS_CHANGED, subscribers.on_status_changed)
    return runtime, create_app(runtime, [api.router], title="WWC Reporting")

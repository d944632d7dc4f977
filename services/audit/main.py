"""Audit's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from shared.contracts.events import Subject
from shared.infra.runtime import ServiceRuntime, Settings, create_app
from services.audit import api, subscribers
from services.audit.activities import AuditActivities


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or Settings.load("audit"))
    runtime.activities = AuditActivities(runtime).all()
    runtime.consume(Subject.SUBMISSION_SUBMITTED, subscribers.on_submission_submitted)
    return runtime, create_app(runtime, [api.router], title="WWC Audit")

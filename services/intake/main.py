"""Intake's composition root: API, subscribers, activities and the CertificationWorkflow."""

from __future__ import annotations

from fastapi import FastAPI


from certification import gateway
from shared.infra.runtime import ServiceRuntime, Settings
from shared.web.app import create_app
from services.intake import api, portal, subscribers
from services.intake.activities import EVIDENCE_BUCKET, IntakeActivities
from services.intake.config import IntakeOptions
from services.intake.problems import ERRORS
from services.intake.throttle import RegistrationThrottle, SignInThrottle
from shared.infra.throttle import platform_throttle
from certification.workflow import CertificationWorkflow


def build(settings: Settings | None = None, options: IntakeOptions | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings.load("intake")
    options = options or IntakeOptions()
    runtime = ServiceRuntime(settings, uses_storage=True, buckets=[EVIDENCE_BUCKET])
    gateway.install(runtime)  # what it tells certification workflows, after commit
    runtime.activities = IntakeActivities(runtime).all()
    runtime.workflows = [CertificationWorkflow]
    for subject, handler in subscribers.SUBSCRIPTIONS.items():
        runtime.consume(subject, handler)
    # One subscription for every debrief subject keeps their order (booked, moved, cancelled...).
    runtime.consume(subscribers.DEBRIEF_SUBJECTS, subscribers.on_debrief, name="intake-debrief")
    app = create_app(runtime, [api.router, portal.router], title="WWC Intake", errors=ERRORS)
    app.state.intake_options = options
    throttle = platform_throttle()  # one store for every intake throttle
    app.state.sign_in_throttle = SignInThrottle(throttle, options)
    app.state.registration_throttle = RegistrationThrottle(throttle, options)
    return runtime, app

"""Intake's composition root: API, subscribers, activities and the CertificationWorkflow."""

from __future__ import annotations

from fastapi import FastAPI

from shared.contracts.events import Subject
from shared.infra.runtime import ServiceRuntime, Settings, create_app
from services.intake import api, portal, subscribers
from services.intake.activities import EVIDENCE_BUCKET, IntakeActivities
from services.intake.config import IntakeOptions
from services.intake.problems import ERRORS
from services.intake.throttle import SignInThrottle
from services.intake.workflow import CertificationWorkflow


def build(settings: Settings | None = None, options: IntakeOptions | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings.load("intake")
    options = options or IntakeOptions()
    runtime = ServiceRuntime(settings, uses_storage=True, buckets=[EVIDENCE_BUCKET])
    runtime.activities = IntakeActivities(runtime).all()
    runtime.workflows = [CertificationWorkflow]
    runtime.consume(Subject.SUBMISSION_SUBMITTED, subscribers.ensure_workflow_started(runtime, options),
                    name="intake-workflow-starter")
    runtime.consume(Subject.CLARIFICATION_ANSWERED, subscribers.signal_clarification_answered(runtime),
                    name="intake-clarification-signaller")
    # One subscription for both case subjects keeps their order (assigned, released, ...).
    runtime.consume(Subject.every("audit", "case"), subscribers.relay_case_holder(runtime), name="intake-case-holder")
    app = create_app(runtime, [api.router, portal.router], title="WWC Intake", errors=ERRORS)
    app.state.intake_options = options
    app.state.sign_in_throttle = SignInThrottle(storage_uri=options.throttle_storage,
                                                per_account=options.sign_in_limits_per_account,
                                                per_client=options.sign_in_limits_per_client)
    return runtime, app

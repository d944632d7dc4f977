"""Audit's composition root: the JSON API, the auditor console, the subscribers and the
review activities."""

from __future__ import annotations

from fastapi import FastAPI


from certification import gateway
from services.audit import api, console, subscribers
from services.audit.activities import AuditActivities
from services.audit.config import AuditOptions
from services.audit.problems import ERRORS
from shared.contracts.events import Subject
from services.audit.trail import service as trail
from shared.infra.logging import get_logger
from shared.infra.runtime import ServiceRuntime, Settings
from shared.infra.settings import CommonSettings
from shared.web.app import create_app

log = get_logger(__name__)


def check_trail_keys(options: AuditOptions, common: CommonSettings) -> None:
    """The development trail key is in the repository: anyone could reseal a forged trail."""
    if not options.trail_keys_are_development:
        return
    if common.env == "production":
        raise RuntimeError("WWC_AUDIT_TRAIL_KEYS / WWC_AUDIT_TRAIL_KEY_FILE are not set: the trail would be sealed "
                           "with the development key; set a real key (id=secret) before WWC_ENV=production")
    log.warning("audit.development_trail_key", hint="set WWC_AUDIT_TRAIL_KEY_FILE in production")


def build(settings: Settings | None = None, options: AuditOptions | None = None) -> tuple[ServiceRuntime, FastAPI]:
    options = options or AuditOptions()
    check_trail_keys(options, CommonSettings())
    trail.use_keys(options.trail_keyring())
    runtime = ServiceRuntime(settings or Settings.load("audit"))
    gateway.install(runtime)  # what it tells certification workflows, after commit
    runtime.activities = AuditActivities(runtime, options).all()
    runtime.consume(Subject.SUBMISSION_SUBMITTED, subscribers.open_case(options))
    runtime.consume(Subject.SUBMISSION_WITHDRAWN, subscribers.close_withdrawn)
    runtime.consume(Subject.USER_REGISTERED, subscribers.record_user, name="audit-staff-directory")
    runtime.consume(Subject.USER_UPDATED, subscribers.record_user, name="audit-staff-settings")
    runtime.consume(Subject.CITY_REGISTERED, subscribers.record_city, name="audit-city-registered")
    runtime.consume(Subject.CITY_UPDATED, subscribers.record_city, name="audit-city-updated")
    runtime.consume(Subject.CITY_FACTS_CHANGED, subscribers.record_fact_change, name="audit-city-facts")
    runtime.consume(Subject.CLARIFICATION_ANSWERED, subscribers.record_answer, name="audit-clarification-answers")
    runtime.consume(Subject.DEBRIEF_BOOKED, subscribers.record_debrief_booked, name="audit-debrief-booked")
    runtime.consume(Subject.DEBRIEF_RESCHEDULED, subscribers.record_debrief_rescheduled, name="audit-debrief-rescheduled")
    runtime.consume(Subject.DEBRIEF_CANCELLED, subscribers.record_debrief_cancelled, name="audit-debrief-cancelled")
    runtime.consume(Subject.DEBRIEF_COMPLETED, subscribers.record_debrief_completed, name="audit-debrief-completed")
    app = create_app(runtime, [api.router, console.router], title="WWC Audit", errors=ERRORS)
    app.state.audit_options = options
    return runtime, app

"""Notify's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from shared.contracts.events import Subject
from shared.infra.runtime import ServiceRuntime, Settings, create_app
from shared.infra.settings import SmtpSettings
from services.notify import api, subscribers
from services.notify.activities import NotifyActivities
from services.notify.mailer import Mailer


def build(settings: Settings | None = None, smtp: SmtpSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or Settings.load("notify"))
    mailer = Mailer(smtp or SmtpSettings())
    runtime.activities = NotifyActivities(runtime, mailer).all()
    runtime.consume(Subject.SUBMISSION_SUBMITTED, subscribers.remember_contact, name="notify-contacts")
    runtime.consume(Subject.SUBMISSION_SUBMITTED, subscribers.on_submission_submitted(mailer))
    runtime.consume(Subject.REPORT_READY, subscribers.on_report_ready(mailer))
    runtime.consume(Subject.REGISTRATION_REQUESTED, subscribers.on_registration_requested(mailer))
    runtime.consume(Subject.REGISTRATION_REFUSED, subscribers.on_registration_refused(mailer))
    return runtime, create_app(runtime, [api.router], title="WWC Notify")

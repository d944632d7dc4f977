"""Notify's composition root: its consumers, activities, API, consoles and mail sender."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI


from certification import gateway
from services.notify import api, console, subscribers
from services.notify.activities import NotifyActivities
from services.notify.config import NotifyOptions
from services.notify.debriefs.service import DebriefConfig
from services.notify.problems import ERRORS
from services.notify.sender import MailSender
from services.notify.sent_marks import MAIL_BUCKET, SentMarks
from shared.contracts.events import Subject
from shared.infra.runtime import ServiceRuntime, Settings
from shared.web.app import create_app
from shared.infra.settings import SERVICES, SmtpSettings, service_urls


class NotifyRuntime(ServiceRuntime):
    """The shared runtime plus the mail sender, which runs beside the relay and stops with it."""

    mail_sender: MailSender

    def start_background(self) -> asyncio.Task:
        task = super().start_background()
        self._tasks.append(asyncio.create_task(self.mail_sender.run(), name="notify-mail-sender"))
        return task


def build(settings: Settings | None = None, smtp: SmtpSettings | None = None,
          options: NotifyOptions | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings.load("notify")
    smtp = smtp or SmtpSettings()
    options = options or NotifyOptions()
    # The object store keeps which mail went (sent_marks): it survives a database restore.
    runtime = NotifyRuntime(settings, uses_storage=True, buckets=[MAIL_BUCKET])
    gateway.install(runtime)  # what it tells certification workflows, after commit
    assert runtime.storage is not None
    sender = MailSender(runtime.db, smtp, options, SentMarks(runtime.storage),
                        ready=lambda: runtime.ready["db"] and runtime.ready["s3"], published=runtime.wake_relay)
    runtime.mail_sender = sender
    cfg = DebriefConfig(options=options, public_url=settings.service.public_url or service_urls()["notify"],
                        organizer=smtp.sender)
    runtime.activities = NotifyActivities(runtime, cfg, sender).all()

    def consume(subject: str, handler, name: str | None = None) -> None:
        runtime.consume(subject, handler, name=name).after_commit.append(sender.wake)

    # What notify knows (no mail in these consumers).
    consume(Subject.USER_REGISTERED, subscribers.remember_person, "notify-people")
    consume(Subject.USER_UPDATED, subscribers.remember_person, "notify-people-updated")
    consume(Subject.CITY_REGISTERED, subscribers.remember_city, "notify-cities")
    consume(Subject.CITY_UPDATED, subscribers.remember_city, "notify-city-updates")
    consume(Subject.SUBMISSION_SUBMITTED, subscribers.remember_contact, "notify-contacts")
    consume(Subject.STATUS_CHANGED, subscribers.remember_stage, "notify-stages")
    consume(Subject.CASE_ASSIGNED, subscribers.remember_assignment, "notify-case-holders")
    consume(Subject.CASE_RELEASED, subscribers.remember_release, "notify-case-releases")
    consume(Subject.CLARIFICATION_REQUESTED, subscribers.remember_round, "notify-clarification-rounds")
    # Mail (durables named after their subject).
    city = subscribers.city_mail(cfg)
    for subject, handler in subscribers.address_mail(options).items():
        consume(subject, handler)
    consume(Subject.SUBMISSION_SUBMITTED, city["submitted"])
    consume(Subject.CLARIFICATION_REQUESTED, city["clarification_requested"])
    consume(Subject.REVIEW_COMPLETED, city["review_completed"])
    consume(Subject.REPORT_READY, city["report_ready"])
    consume(Subject.SCORE_COMPUTED, city["score_computed"])
    consume(subscribers.APPEAL_FILED, city["appeal_filed"])
    consume(Subject.CASE_ASSIGNED, subscribers.on_case_assigned)
    consume(Subject.REVIEW_DUE_SOON, subscribers.on_review_due_soon)
    consume(Subject.CLARIFICATION_ANSWERED, subscribers.on_clarification_answered)
    consume(Subject.SIGNOFF_RETURNED, subscribers.on_signoff_returned)
    consume(Subject.REVIEW_OVERDUE, subscribers.on_review_overdue)
    consume(Subject.APPEAL_DUE_SOON, subscribers.on_appeal_due_soon)
    consume(Subject.APPEAL_OVERDUE, subscribers.on_appeal_overdue)
    for service in SERVICES:
        consume(Subject.message_parked(service), subscribers.on_message_parked,
                f"{subscribers.PARKED_MAILER}-{service}")

    app = create_app(runtime, [api.router, console.router], title="WWC Notify", errors=ERRORS)
    app.state.debrief_config = cfg
    app.state.mail_sender = sender
    return runtime, app

"""Notify mails cities about the facts they care about."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import Envelope, ReportReady, SubmissionSubmitted
from services.notify import service
from services.notify.mailer import Mailer
from services.notify.models import Contact


async def remember_contact(session: AsyncSession, envelope: Envelope) -> None:
    """Its own consumer, with no mail in it: an SMTP outage never keeps the contact from
    being known to the handlers of later events."""
    p = envelope.payload_as(SubmissionSubmitted)
    await service.remember_contact(session, submission_id=p.submission_id, city_id=p.city_id,
                                   city_name=p.city_name, email=p.contact_email)


def on_submission_submitted(mailer: Mailer):
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(SubmissionSubmitted)
        await service.send_once(
            session, mailer, cause=f"event:{envelope.event_id}", submission_id=p.submission_id, to=p.contact_email,
            subject=f"We received {p.city_name}'s {p.cycle} assessment",
            body=(f"Thank you. {p.city_name}'s assessment ({p.answered} criteria, {p.evidence_count} pieces of "
                  "evidence) is now with the What Works Cities audit team.\n"),
        )

    return handle


def on_report_ready(mailer: Mailer):
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(ReportReady)
        contact = await session.get(Contact, p.submission_id)
        if contact is None:
            # submission.submitted has not been handled yet: retry rather than skip the mail.
            raise LookupError(f"no contact yet for submission {p.submission_id}")
        await service.send_once(
            session, mailer, cause=f"event:{envelope.event_id}", submission_id=p.submission_id,
            to=contact.email, subject="Your Certification Report is ready",
            body="Your What Works Cities Certification Report is ready to view in the city portal.\n",
        )

    return handle

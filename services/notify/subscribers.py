"""Notify mails cities about the facts they care about."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import (
    Envelope,
    RegistrationRefused,
    RegistrationRequested,
    ReportReady,
    SubmissionSubmitted,
)
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


def on_registration_requested(mailer: Mailer):
    """The link that confirms a new account's address (it creates the account)."""

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(RegistrationRequested)
        await service.send_once(
            session, mailer, cause=f"event:{envelope.event_id}", submission_id=None, to=p.email,
            subject="Confirm your What Works Cities Certification account",
            body=(f"Hello {p.contact_name},\n\nTo create the account for {p.city_name}, open this link "
                  f"(it works once, until {p.expires_at:%Y-%m-%d %H:%M} UTC):\n\n{p.confirm_url}\n\n"
                  "If you did not ask for this, ignore this message.\n"),
        )

    return handle


def on_registration_refused(mailer: Mailer):
    """Only the address's owner learns that it has an account already (or that the city is
    registered); the API said the same to everyone."""

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(RegistrationRefused)
        if p.reason == "account_exists":
            text = ("Someone asked to create a What Works Cities Certification account with this address, "
                    "which already has one. Sign in with it instead. If it was not you, ignore this message.")
        else:
            text = (f"Someone asked to register {p.city_name} with this address, but {p.city_name} is already "
                    "registered. Ask its staff to invite you. If it was not you, ignore this message.")
        await service.send_once(session, mailer, cause=f"event:{envelope.event_id}", submission_id=None,
                                to=p.email, subject="Your What Works Cities Certification account",
                                body=text + "\n")

    return handle

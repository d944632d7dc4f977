"""Notify use cases: remember contacts, send each mail once per cause, offer debriefs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import DebriefOffered, Subject, make_event
from shared.contracts.workflows import DebriefRequest
from shared.infra.outbox import add_event
from services.notify.mailer import Mailer
from services.notify.models import Contact, DebriefOffer, SentMail


async def remember_contact(session: AsyncSession, *, submission_id: str, city_id: str, city_name: str,
                           email: str | None) -> Contact:
    contact = await session.get(Contact, submission_id)
    if contact is None:
        contact = Contact(submission_id=submission_id, city_id=city_id, city_name=city_name, email=email)
        session.add(contact)
        await session.flush()
    return contact


async def send_once(session: AsyncSession, mailer: Mailer, *, cause: str, submission_id: str | None,
                    to: str | None, subject: str, body: str) -> bool:
    """The SentMail row (unique cause) is written in the same transaction as the send:
    if the send fails the row rolls back and the mail is retried."""
    if not to:
        return False
    if await session.scalar(select(SentMail).where(SentMail.cause == cause)):
        return False
    session.add(SentMail(cause=cause, submission_id=submission_id, to=to, subject=subject))
    await session.flush()
    await mailer.send(to, subject, body)
    return True


async def offer_debrief(session: AsyncSession, mailer: Mailer, req: DebriefRequest) -> tuple[DebriefOffer, bool]:
    offer = await session.scalar(select(DebriefOffer).where(DebriefOffer.submission_id == req.submission_id))
    contact = await session.get(Contact, req.submission_id)
    email = req.contact_email or (contact.email if contact else None)
    if offer is None:
        offer = DebriefOffer(submission_id=req.submission_id, city_id=req.city_id, email=email)
        session.add(offer)
        await session.flush()
        await add_event(session, make_event(
            Subject.DEBRIEF_OFFERED, DebriefOffered(submission_id=req.submission_id, offer_id=offer.id, email=email),
            submission_id=req.submission_id, city_id=req.city_id, correlation_id=req.correlation_id,
        ))
    tier = req.tier.title() if req.tier else "not yet certified"
    emailed = await send_once(
        session, mailer, cause=f"debrief-offer:{req.submission_id}", submission_id=req.submission_id, to=email,
        subject="Your What Works Cities debrief call",
        body=(f"Hello {req.city_name or 'team'},\n\nYour Certification Report is ready ({tier}). "
              "You may book an optional debrief call to walk through your customised path to the next tier.\n"),
    )
    return offer, emailed

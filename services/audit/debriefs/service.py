"""Notify announces each change of a city's debrief call; audit keeps the latest, so the
case page can say when the call is and who booked it without asking notify. Events may
arrive late or twice: a booking's older sequence never overwrites a newer one, a
cancellation only ends the booking it names, and an ended debrief stays ended."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import DebriefBooked, DebriefCancelled, DebriefCompleted
from shared.infra.orm import insert_if_absent, utcnow

from services.audit.models import DebriefCall

ENDED = {"held", "no_show", "declined", "expired"}


async def booked(session: AsyncSession, p: DebriefBooked) -> None:
    values = dict(booking_id=p.booking_id, sequence=p.sequence, starts_at=p.starts_at, ends_at=p.ends_at,
                  auditor_id=p.auditor_id, booked_by_name=p.booked_by_name, cancelled_by_name="", timezone=p.timezone,
                  state="booked",
                  updated_at=utcnow())
    if await insert_if_absent(session, DebriefCall, submission_id=p.submission_id, **values):
        return
    call = await session.get(DebriefCall, p.submission_id)
    assert call is not None
    if call.state in ENDED or (call.booking_id == p.booking_id and call.sequence > p.sequence):
        return
    if call.booking_id == p.booking_id and call.state == "cancelled":
        return  # this booking's cancellation arrived first
    for k, v in values.items():
        setattr(call, k, v)


async def cancelled(session: AsyncSession, p: DebriefCancelled) -> None:
    call = await session.get(DebriefCall, p.submission_id)
    if call is None:
        await insert_if_absent(session, DebriefCall, submission_id=p.submission_id, booking_id=p.booking_id,
                               starts_at=p.starts_at, state="cancelled", cancelled_by_name=p.by_name,
                               updated_at=utcnow())
    elif call.booking_id == p.booking_id and call.state not in ENDED:
        call.state, call.cancelled_by_name, call.updated_at = "cancelled", p.by_name, utcnow()


async def completed(session: AsyncSession, p: DebriefCompleted) -> None:
    call = await session.get(DebriefCall, p.submission_id)
    if call is None:
        await insert_if_absent(session, DebriefCall, submission_id=p.submission_id, state=p.outcome.value,
                               updated_at=utcnow())
    else:
        call.state, call.updated_at = p.outcome.value, utcnow()


async def of(session: AsyncSession, submission_id: str) -> DebriefCall | None:
    return await session.get(DebriefCall, submission_id)

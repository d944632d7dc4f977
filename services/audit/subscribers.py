"""Audit's event handlers: cases open on submission and close on withdrawal; the staff and
city directories follow intake's accounts; clarification answers reach their round; the
city's debrief call follows notify's bookings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import directory
from services.audit.cases import service as cases
from services.audit.decisions import service as decisions
from services.audit.rounds import service as rounds
from services.audit.config import AuditOptions
from services.audit.debriefs import service as debriefs
from shared.contracts.events import (
    CityFactsChanged,
    CityProfile,
    ClarificationAnswered,
    DebriefBooked,
    DebriefCancelled,
    DebriefCompleted,
    DebriefRescheduled,
    Envelope,
    SubmissionSubmitted,
    SubmissionWithdrawn,
    UserRegistered,
)
from shared.infra.logging import get_logger

log = get_logger(__name__)


def open_case(options: AuditOptions):
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(SubmissionSubmitted)
        await cases.open_case(session, options, submission_id=p.submission_id, city_id=p.city_id,
                              correlation_id=envelope.correlation_id, city_name=p.city_name, cycle=p.cycle,
                              catalog_version=p.catalog_version)

    return handle


async def close_withdrawn(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(SubmissionWithdrawn)
    await cases.withdraw(session, p.submission_id, p.reason, by_name=p.by_name)


async def record_user(session: AsyncSession, envelope: Envelope) -> None:
    await directory.record_user(session, envelope.payload_as(UserRegistered))


async def record_city(session: AsyncSession, envelope: Envelope) -> None:
    await directory.record_city(session, envelope.payload_as(CityProfile))


async def record_fact_change(session: AsyncSession, envelope: Envelope) -> None:
    await directory.record_fact_change(session, envelope.payload_as(CityFactsChanged))


async def record_answer(session: AsyncSession, envelope: Envelope) -> None:
    answer = envelope.payload_as(ClarificationAnswered)
    recorded = await rounds.record_answer(session, answer)
    if recorded is None:
        log.info("clarification.not_ours", request_id=answer.request_id)
    elif recorded == "recorded":  # in the same transaction: the flags and their trail record
        await decisions.mark_changed(session, answer.request_id)



async def record_debrief_booked(session: AsyncSession, envelope: Envelope) -> None:
    await debriefs.booked(session, envelope.payload_as(DebriefBooked))


async def record_debrief_rescheduled(session: AsyncSession, envelope: Envelope) -> None:
    await debriefs.booked(session, envelope.payload_as(DebriefRescheduled))


async def record_debrief_cancelled(session: AsyncSession, envelope: Envelope) -> None:
    await debriefs.cancelled(session, envelope.payload_as(DebriefCancelled))


async def record_debrief_completed(session: AsyncSession, envelope: Envelope) -> None:
    await debriefs.completed(session, envelope.payload_as(DebriefCompleted))

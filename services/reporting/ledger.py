"""The ledger: every programme event reporting receives, kept as it came (minus secrets),
and the read models built from it (the pipeline of submissions, the city directory).

One durable consumer on every subject feeds it, so events of one submission are applied in
the order they were published; projections still compare times, since a parked event can be
replayed days later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from certification.contract import Stage
from services.reporting.models import CityEntry, LedgerEntry, PipelineEntry
from services.reporting.operations.service import UNDER_REVIEW
from shared.catalog import places
from shared.contracts.events import (
    CaseAssigned,
    CaseOpened,
    CityProfile,
    Envelope,
    ReportReady,
    ReviewOverdue,
    ScoreComputed,
    SignoffRequested,
    StatusChanged,
    StepFailed,
    Subject,
    SubmissionSubmitted,
)
from shared.contracts.vocabulary import WaitingFor
from shared.infra.orm import insert_if_absent

# Never stored: they carry single-use links (registration) and say nothing about a submission.
SKIPPED = {Subject.REGISTRATION_REQUESTED, Subject.REGISTRATION_REFUSED}
# Payload fields that are credentials (a link with a token) rather than facts.
SECRET_FIELDS = {"confirm_url", "booking_url", "token"}


async def record(session: AsyncSession, envelope: Envelope) -> None:
    if envelope.type in SKIPPED:
        return
    payload = {k: v for k, v in envelope.payload.items() if k not in SECRET_FIELDS}
    await insert_if_absent(
        session, LedgerEntry, event_id=str(envelope.event_id), subject=envelope.type,
        occurred_at=envelope.occurred_at, submission_id=envelope.submission_id, city_id=envelope.city_id,
        correlation_id=envelope.correlation_id[:64], payload=payload)
    apply = PROJECTIONS.get(envelope.type)
    if apply is not None:
        await apply(session, envelope)


# --- the city directory ------------------------------------------------------------------


async def _city(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(CityProfile)
    city = await session.get(CityEntry, p.city_id, with_for_update=True)
    if city is None:
        city = CityEntry(city_id=p.city_id, name=p.name, updated_at=envelope.occurred_at)
        session.add(city)
    elif envelope.occurred_at < city.updated_at:
        return
    # Intake sends ISO 3166-2 codes; an older event replayed may carry a spelling ("Ontario").
    code = places.normalise(p.country, p.state)
    city.name, city.state, city.country = p.name, p.state if code is None else code, p.country
    city.region, city.population_band, city.updated_at = p.region, p.population_band, envelope.occurred_at
    # The pipeline follows a renamed or re-banded city.
    await session.execute(update(PipelineEntry).where(PipelineEntry.city_id == p.city_id).values(
        city_name=p.name, region=p.region, population_band=p.population_band))


# --- the pipeline --------------------------------------------------------------------------


async def _entry(session: AsyncSession, envelope: Envelope) -> PipelineEntry:
    """The submission's row, created by whichever of its events arrives first."""
    assert envelope.submission_id is not None
    entry = await session.get(PipelineEntry, envelope.submission_id, with_for_update=True)
    if entry is None:
        entry = PipelineEntry(submission_id=envelope.submission_id, city_id=envelope.city_id,
                              stage_since=envelope.occurred_at, updated_at=envelope.occurred_at)
        if envelope.city_id and (city := await session.get(CityEntry, envelope.city_id)):
            entry.city_name, entry.region, entry.population_band = city.name, city.region, city.population_band
        session.add(entry)
    entry.city_id = entry.city_id or envelope.city_id
    return entry


async def _submitted(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(SubmissionSubmitted)
    entry = await _entry(session, envelope)
    entry.city_id, entry.cycle, entry.submitted_at = p.city_id, p.cycle, envelope.occurred_at
    entry.city_name = p.city_name or entry.city_name


async def _status(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(StatusChanged)
    entry = await _entry(session, envelope)
    if envelope.occurred_at < entry.stage_since:
        return  # an older stage arriving late (a replayed event): the newer one stands
    entry.stage, entry.stage_since, entry.updated_at = p.status, envelope.occurred_at, envelope.occurred_at
    entry.waiting_for, entry.detail, entry.failing, entry.failing_step = p.waiting_for, p.detail, "", ""
    if entry.signoff_by is not None and p.status in UNDER_REVIEW and p.waiting_for == WaitingFor.AUDITOR:
        entry.waiting_for = WaitingFor.SIGNOFF  # back from a clarification round while sign-off was asked


async def _step_failed(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(StepFailed)
    entry = await _entry(session, envelope)
    if envelope.occurred_at >= entry.stage_since:
        entry.failing, entry.failing_step = f"{p.step}: {p.error}"[:2000], p.step[:100]
        entry.waiting_for = WaitingFor.OPERATOR


async def _step_retried(session: AsyncSession, envelope: Envelope) -> None:
    entry = await _entry(session, envelope)
    entry.failing, entry.failing_step = "", ""


async def _case_opened(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(CaseOpened)
    entry = await _entry(session, envelope)
    entry.case_id, entry.due_at = p.case_id, p.due_at or entry.due_at
    entry.cycle = entry.cycle or p.cycle
    entry.city_name = entry.city_name or p.city_name


async def _case_assigned(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(CaseAssigned)
    entry = await _entry(session, envelope)
    entry.auditor_id, entry.due_at = p.auditor_id, p.due_at or entry.due_at


async def _case_released(session: AsyncSession, envelope: Envelope) -> None:
    entry = await _entry(session, envelope)
    entry.auditor_id = None


async def _overdue(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ReviewOverdue)
    entry = await _entry(session, envelope)
    entry.overdue, entry.due_at = True, p.due_at


async def _review_completed(session: AsyncSession, envelope: Envelope) -> None:
    entry = await _entry(session, envelope)
    entry.overdue, entry.signoff_by = False, None


async def _signoff_requested(session: AsyncSession, envelope: Envelope) -> None:
    """The review waits for a second auditor now, not for the one who holds the case."""
    p = envelope.payload_as(SignoffRequested)
    entry = await _entry(session, envelope)
    if entry.stage in UNDER_REVIEW and envelope.occurred_at >= entry.updated_at:
        entry.signoff_by, entry.waiting_for, entry.updated_at = p.reviewer_id, WaitingFor.SIGNOFF, envelope.occurred_at


async def _signoff_returned(session: AsyncSession, envelope: Envelope) -> None:
    entry = await _entry(session, envelope)
    if entry.signoff_by is not None and envelope.occurred_at >= entry.updated_at:
        entry.signoff_by, entry.waiting_for, entry.updated_at = None, WaitingFor.AUDITOR, envelope.occurred_at


async def _scored(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ScoreComputed)
    entry = await _entry(session, envelope)
    entry.tier, entry.percent = p.tier, p.percent
    entry.cycle = entry.cycle or p.cycle
    entry.region, entry.population_band = p.region or entry.region, p.population_band or entry.population_band


async def _report(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ReportReady)
    entry = await _entry(session, envelope)
    entry.report_id = p.report_id


def _debrief_waits_for(waiting: WaitingFor):
    """A booked, moved or cancelled call changes what the debrief stage waits for (the
    workflow's own status only announces stage changes)."""
    async def project(session: AsyncSession, envelope: Envelope) -> None:
        entry = await _entry(session, envelope)
        if entry.stage == Stage.DEBRIEF and envelope.occurred_at >= entry.stage_since:
            entry.waiting_for, entry.updated_at = waiting, envelope.occurred_at

    return project


PROJECTIONS = {
    Subject.CITY_REGISTERED: _city,
    Subject.CITY_UPDATED: _city,
    Subject.SUBMISSION_SUBMITTED: _submitted,
    Subject.STATUS_CHANGED: _status,
    Subject.STEP_FAILED: _step_failed,
    Subject.STEP_RETRIED: _step_retried,
    Subject.REVIEW_CASE_OPENED: _case_opened,
    Subject.CASE_ASSIGNED: _case_assigned,
    Subject.CASE_RELEASED: _case_released,
    Subject.REVIEW_OVERDUE: _overdue,
    Subject.REVIEW_COMPLETED: _review_completed,
    Subject.SIGNOFF_REQUESTED: _signoff_requested,
    Subject.SIGNOFF_RETURNED: _signoff_returned,
    Subject.SCORE_COMPUTED: _scored,
    Subject.REPORT_READY: _report,
    Subject.DEBRIEF_BOOKED: _debrief_waits_for(WaitingFor.DEBRIEF_CALL),
    Subject.DEBRIEF_RESCHEDULED: _debrief_waits_for(WaitingFor.DEBRIEF_CALL),
    Subject.DEBRIEF_CANCELLED: _debrief_waits_for(WaitingFor.CITY_BOOKING),
}


def stage_durations(history: list[tuple[str, datetime]], until: datetime) -> dict[str, float]:
    """Seconds spent in each stage, from a submission's (stage, entered at) changes in
    order; the current stage counts until `until`."""
    spent: dict[str, float] = {}
    for (stage, since), nxt in zip(history, [*history[1:], (None, until)], strict=True):
        spent[stage] = spent.get(stage, 0.0) + max((nxt[1] - since).total_seconds(), 0.0)
    return spent

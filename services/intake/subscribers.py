"""Intake's event handlers: what the services that own each fact announce about a
submission's progress (score, report, debrief, clarification requests) becomes intake's
own record of it (services/intake/progress.py). A fact older than what is known never
overwrites it: events may arrive in any order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Appeal, ClarificationRequest, Submission
from services.intake.progress import ScoreRead, audited_record
from shared.contracts.events import (
    AppealResolved,
    ClarificationClosed,
    ClarificationRequested,
    DebriefBooked,
    DebriefCompleted,
    Envelope,
    ReportReady,
    ReviewCompleted,
    ScoreComputed,
    Subject,
)
from shared.infra.orm import insert_if_absent


async def _submission(session: AsyncSession, submission_id: str | None) -> Submission:
    sub = await session.get(Submission, submission_id, with_for_update=True) if submission_id else None
    if sub is None:  # the submission is intake's own: an event about it cannot come first
        raise LookupError(f"no submission {submission_id}")
    return sub


# --- the other services' facts, as their events arrive --------------------------------------


async def on_score(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ScoreComputed)
    sub = await _submission(session, p.submission_id)
    sub.score = ScoreRead(met=p.met, total=p.total, percent=p.percent, tier=p.tier).model_dump()


async def on_report(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ReportReady)
    sub = await _submission(session, p.submission_id)
    sub.report_id, sub.report_url = p.report_id, p.url


async def on_review_completed(session: AsyncSession, envelope: Envelope) -> None:
    """The review as approved: what the city's pages show beside what it submitted."""
    p = envelope.payload_as(ReviewCompleted)
    sub = await _submission(session, p.submission_id)
    sub.audit = audited_record(p)


async def on_debrief(session: AsyncSession, envelope: Envelope) -> None:
    """Booked or moved (a higher sequence wins), cancelled, or over (held, declined...)."""
    sub = await _submission(session, envelope.submission_id)
    if envelope.type in (Subject.DEBRIEF_BOOKED, Subject.DEBRIEF_RESCHEDULED):
        p = envelope.payload_as(DebriefBooked)
        if p.sequence > sub.debrief_sequence:
            sub.debrief_starts_at, sub.debrief_sequence = p.starts_at, p.sequence
    elif envelope.type == Subject.DEBRIEF_CANCELLED:
        sub.debrief_starts_at = None
        sub.debrief_sequence += 1
    elif envelope.type == Subject.DEBRIEF_COMPLETED:
        sub.debrief_outcome = envelope.payload_as(DebriefCompleted).outcome


async def on_clarification_requested(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ClarificationRequested)
    await _submission(session, p.submission_id)
    await insert_if_absent(session, ClarificationRequest, request_id=p.request_id, submission_id=p.submission_id,
                           criteria=p.criteria, message=p.message, due_at=p.due_at, requested_by=p.requested_by,
                           requested_at=envelope.occurred_at, state="open")


async def on_clarification_closed(session: AsyncSession, envelope: Envelope) -> None:
    """Audit closed a round unanswered at its due date."""
    p = envelope.payload_as(ClarificationClosed)
    found = await session.get(ClarificationRequest, p.request_id, with_for_update=True)
    if found is None:
        raise LookupError(f"no clarification request {p.request_id} yet")  # its request comes first: retried
    if found.state == "open":
        found.state = "expired"


async def on_appeal_decided(session: AsyncSession, envelope: Envelope) -> None:
    """The appeal's decisions, signed off: what the city's pages show per criterion."""
    p = envelope.payload_as(AppealResolved)
    appeal = await session.get(Appeal, p.appeal_id, with_for_update=True)
    if appeal is None:
        raise LookupError(f"no appeal {p.appeal_id}")  # intake stores it before audit can decide it
    if appeal.decisions is None:
        appeal.decisions = [d.model_dump(mode="json") for d in p.decisions]
        appeal.decided_at = p.decided_at


SUBSCRIPTIONS = {
    Subject.SCORE_COMPUTED: on_score,
    Subject.REPORT_READY: on_report,
    Subject.CLARIFICATION_REQUESTED: on_clarification_requested,
    Subject.CLARIFICATION_CLOSED: on_clarification_closed,
    Subject.REVIEW_COMPLETED: on_review_completed,
    Subject.APPEAL_DECIDED: on_appeal_decided,
}
DEBRIEF_SUBJECTS = Subject.every("notify", "debrief")

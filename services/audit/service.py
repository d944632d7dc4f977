"""Audit use cases: open a review case, complete a review."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import ReviewCaseOpened, ReviewCompleted, Subject, make_event
from shared.infra.orm import insert_if_absent, new_id, utcnow
from shared.infra.outbox import add_event
from services.audit.models import ReviewCase


async def open_case(session: AsyncSession, *, submission_id: str, city_id: str | None,
                    correlation_id: str, responses: dict | None = None) -> ReviewCase:
    """Get or create the submission's case; only the creator publishes case.opened.

    The subscriber (on submission.submitted) and the review activity may both get here
    first, at the same moment: the insert is conflict-safe, so neither fails."""
    created = await insert_if_absent(
        session, ReviewCase, id=new_id(), submission_id=submission_id, city_id=city_id, status="open",
        submitted_responses=responses or {}, audited_responses={}, corrections=0, opened_at=utcnow())
    case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == submission_id))
    if not created:
        if responses and not case.submitted_responses:
            case.submitted_responses = responses
        return case
    await add_event(session, make_event(
        Subject.REVIEW_CASE_OPENED, ReviewCaseOpened(submission_id=submission_id, case_id=case.id),
        submission_id=submission_id, city_id=city_id, correlation_id=correlation_id,
    ))
    return case


async def complete_review(session: AsyncSession, case: ReviewCase, audited: dict[str, str],
                          correlation_id: str) -> ReviewCase:
    if case.status == "completed":
        return case  # a retried activity: already completed and published
    case.audited_responses = audited
    case.corrections = sum(1 for k, v in audited.items() if case.submitted_responses.get(k) != v)
    case.status, case.completed_at = "completed", utcnow()
    await add_event(session, make_event(
        Subject.REVIEW_COMPLETED,
        ReviewCompleted(submission_id=case.submission_id, case_id=case.id, corrections=case.corrections),
        submission_id=case.submission_id, city_id=case.city_id, correlation_id=correlation_id,
    ))
    return case

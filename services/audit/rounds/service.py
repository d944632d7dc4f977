"""Clarification rounds: the holder asks the city for documents or explanations on named
criteria, with a due date (one open round at a time, at most `max_clarification_rounds`
per case). The request reaches the workflow as its `request_clarification` signal (and
again from the outbox if that failed); the city answers through intake, whose event brings
the new narratives and files here; a round past its due date is closed by the workflow
(`audit.close_round`) and the case comes back with what exists."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from certification import gateway
from certification.contract import ClarificationRequest, Signal
from services.audit import domain
from services.audit.cases import service as cases
from services.audit.cases import evidence
from services.audit.trail import service as trail
from services.audit.config import AuditOptions
from services.audit.domain import CaseState
from services.audit.errors import RoundOpen
from services.audit.cases.evidence import EvidenceView
from services.audit.models import ClarificationRound, ReviewCase
from shared.contracts.events import ClarificationAnswered, ClarificationClosed, ClarificationRequested, Subject
from shared.infra.auth import Principal
from shared.infra.orm import new_id, utcnow


class RoundCreate(BaseModel):
    criteria: list[str] = Field(min_length=1, max_length=100, description="criteria the city should answer on")
    message: str = Field(min_length=1, max_length=4000, description="what to send or explain (the city reads it)")
    due_at: AwareDatetime | None = Field(default=None, description="default: `round_days` from now")


class AnswerRead(BaseModel):
    narrative: str
    evidence: list[EvidenceView] = Field(default_factory=list)


class RoundRead(BaseModel):
    id: str
    number: int
    criteria: list[str]
    message: str
    due_at: datetime
    requested_by: str
    requested_at: datetime
    status: str
    answered_at: datetime | None = None
    answers: dict[str, AnswerRead] = Field(default_factory=dict)
    closed_at: datetime | None = None


def read(r: ClarificationRound) -> RoundRead:
    answers = {cid: AnswerRead(narrative=a.get("narrative", ""),
                               evidence=[evidence._view({**e, "criterion_id": e.get("criterion_id") or cid}, r.number)
                                         for e in a.get("evidence", [])])
               for cid, a in (r.answers or {}).items()}
    return RoundRead(id=r.id, number=r.number, criteria=list(r.criteria), message=r.message, due_at=r.due_at,
                     requested_by=r.requested_by, requested_at=r.requested_at, status=r.status,
                     answered_at=r.answered_at, answers=answers, closed_at=r.closed_at)


def limits(options: AuditOptions) -> domain.RoundLimits:
    return domain.RoundLimits(max_rounds=options.max_clarification_rounds,
                              min_length=timedelta(days=options.min_round_days),
                              max_length=timedelta(days=options.max_round_days))


async def of_case(session: AsyncSession, case_id: str) -> list[ClarificationRound]:
    rows = await session.scalars(select(ClarificationRound).where(ClarificationRound.case_id == case_id)
                                 .order_by(ClarificationRound.number))
    return list(rows.all())


async def request(session: AsyncSession, principal: Principal, case: ReviewCase, data: RoundCreate,
                  options: AuditOptions) -> ClarificationRound:
    await cases.ensure_holder(session, principal, case, action="ask for clarification on")
    if case.status == CaseState.CLARIFICATION:
        raise RoundOpen("A clarification round is open: wait for the answer or its due date.")
    domain.ensure_state(case.status, {CaseState.IN_REVIEW}, "sent a clarification request")
    sub = cases.frozen(case)
    existing = await of_case(session, case.id)
    now = utcnow()
    due_at = data.due_at or now + timedelta(days=options.round_days)
    criteria = domain.check_round(rounds_used=len(existing), open_rounds=sum(r.status == "open" for r in existing),
                                  limits=limits(options), criteria=data.criteria, known=sub.responses,
                                  message=data.message, due_at=due_at, now=now)
    locked = await cases.lock(session, case.id, ReviewCase.holder_id == principal.sub,
                              ReviewCase.status == CaseState.IN_REVIEW.value)
    if locked is None:
        raise RoundOpen("The case changed meanwhile (a round may be open already): reload it.")
    row = ClarificationRound(id=new_id(), case_id=case.id, number=len(existing) + 1, criteria=criteria,
                             message=data.message.strip(), due_at=due_at, requested_by=principal.sub,
                             requested_at=now, status="open", answers={})
    session.add(row)
    locked.status = CaseState.CLARIFICATION.value
    await session.flush()
    await cases.record(session, locked, trail.Actor.of(principal), "round.requested",
                       before={"status": CaseState.IN_REVIEW.value},
                       after={"status": locked.status, "round": row.number, "request_id": row.id,
                              "criteria": criteria, "due_at": due_at.isoformat()}, reason=row.message)
    await cases.publish(session, locked, Subject.CLARIFICATION_REQUESTED, ClarificationRequested(
        submission_id=locked.submission_id, case_id=locked.id, request_id=row.id, criteria=criteria,
        message=row.message, due_at=due_at, requested_by=principal.sub))
    await gateway.signal(session, locked.submission_id, Signal.REQUEST_CLARIFICATION, ClarificationRequest(
        request_id=row.id, criteria=criteria, message=row.message, due_at=due_at, requested_by=principal.sub))
    return row


async def _close(session: AsyncSession, case: ReviewCase, row: ClarificationRound) -> None:
    """After a round closes, the case is back with its holder (or in the queue)."""
    still_open = [r for r in await of_case(session, case.id) if r.status == "open" and r.id != row.id]
    if case.status == CaseState.CLARIFICATION and not still_open:
        case.status = domain.state_after_round(case.holder_id).value


async def record_answer(session: AsyncSession, answer: ClarificationAnswered) -> str | None:
    """The city's answer (from intake's event): kept on the round, shown beside what was
    submitted. "recorded" (new), "again" (the same event twice), or None for a request
    audit did not make. The decisions it changes are flagged by `decisions.mark_changed`."""
    row = await session.get(ClarificationRound, answer.request_id)
    if row is None:
        return None
    case = await cases.lock(session, row.case_id)
    assert case is not None
    row = await session.get(ClarificationRound, answer.request_id, populate_existing=True)
    if row.answered_at is not None:
        return "again"
    before = {"status": case.status, "round_status": row.status}
    row.answers = {cid: a.model_dump(mode="json") for cid, a in answer.answers.items()}
    row.answered_at, row.answered_by = answer.answered_at, answer.answered_by
    if row.status == "open":
        row.status, row.closed_at = "answered", utcnow()
        await _close(session, case, row)
    actor = trail.Actor(answer.answered_by or "city", "city")
    await cases.record(session, case, actor, "round.answered", before=before, after={
        "status": case.status, "round": row.number, "request_id": row.id, "round_status": row.status,
        "criteria": sorted(answer.answers),
        "evidence": [{"id": e.id, "sha256": e.sha256, "url": e.url} for a in answer.answers.values()
                     for e in a.evidence]})
    return "recorded"


async def expire(session: AsyncSession, case_id: str, request_id: str) -> None:
    """The round's due date passed unanswered (the workflow says so): the case comes back."""
    case = await cases.lock(session, case_id)
    if case is None:
        return
    row = await session.get(ClarificationRound, request_id, populate_existing=True)
    if row is None or row.case_id != case.id or row.status != "open":
        return
    before = {"status": case.status, "round_status": row.status}
    row.status, row.closed_at = "expired", utcnow()
    await _close(session, case, row)
    await cases.record(session, case, trail.WORKFLOW, "round.expired", before=before,
                       after={"status": case.status, "round": row.number, "request_id": row.id,
                              "round_status": row.status},
                       reason="no answer before the round's due date: the review goes on with what exists")
    await cases.publish(session, case, Subject.CLARIFICATION_CLOSED, ClarificationClosed(
        submission_id=case.submission_id, case_id=case.id, request_id=row.id))

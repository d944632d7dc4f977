"""Answering an auditor's clarification request: a new narrative and evidence on the
criteria the request names, before its due date. The answer is stored (with its own
evidence rows, marked with the request), the frozen submission is never modified, and in
the same transaction its event is published and the workflow told
(`clarification_answered`, delivered by certification.gateway after commit).

Requests are audit's: intake keeps the copy audit announced (services/intake/progress.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from certification import gateway
from certification.contract import ClarificationAnswer as AnswerSignal
from certification.contract import Signal
from services.intake import domain, evidence, progress, uploads
from services.intake.config import IntakeOptions
from services.intake.domain import ClarificationState
from services.intake.drafts import EvidenceRead
from services.intake.errors import AnswerIncomplete, ClarificationAnswered, CriterionNotRequested, Forbidden
from services.intake.models import ClarificationAnswer, ClarificationRequest, Evidence, Submission
from shared.contracts.events import ClarificationAnswered as AnsweredEvent
from shared.contracts.events import CriterionAnswerSent, Subject, make_event
from shared.contracts.submission import EvidenceItem
from shared.contracts.vocabulary import EvidenceKind
from shared.infra.auth import Principal, Role
from shared.infra.logging import get_logger
from shared.infra.orm import insert_if_absent, new_id
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime

log = get_logger(__name__)


class CriterionAnswer(BaseModel):
    narrative: str = Field(min_length=1, max_length=20000)
    links: list[HttpUrl] = Field(default_factory=list, max_length=20)


class ClarificationAnswerCreate(BaseModel):
    """A new narrative (and optionally links) for every criterion the request names.
    Files for the answer are uploaded first to the request's file endpoint."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"answers": {
        "DG1": {"narrative": "The inventory is attached, with its update schedule.",
                "links": ["https://data.springfield.gov/inventory"]},
    }}]})

    answers: dict[str, CriterionAnswer]


class ClarificationRead(BaseModel):
    request_id: str
    criteria: list[str]
    message: str
    due_at: datetime
    requested_by: str = ""
    state: ClarificationState
    answered_at: datetime | None = None
    answers: dict[str, dict] | None = None
    evidence: list[EvidenceRead] = Field(default_factory=list, description="files and links sent for this request")


async def _answers(session: AsyncSession, submission_id: str) -> dict[str, ClarificationAnswer]:
    rows = await session.scalars(select(ClarificationAnswer).where(ClarificationAnswer.submission_id == submission_id))
    return {a.request_id: a for a in rows.all()}


async def _evidence(session: AsyncSession, sub: Submission, request_id: str | None = None) -> list[Evidence]:
    stmt = select(Evidence).where(Evidence.assessment_id == sub.assessment_id, Evidence.clarification_id.is_not(None))
    if request_id:
        stmt = stmt.where(Evidence.clarification_id == request_id)
    return list((await session.scalars(stmt.order_by(Evidence.created_at))).all())


async def list_requests(runtime: ServiceRuntime, sub: Submission) -> list[ClarificationRead]:
    """Every request the submission was sent, with its answer and files."""
    now = datetime.now(UTC)
    async with runtime.db.sessionmaker() as session:
        requests = await progress.requests_of(session, sub.id)
        answers = await _answers(session, sub.id)
        files = await _evidence(session, sub)
    by_request: dict[str, list[Evidence]] = {}
    for ev in files:
        by_request.setdefault(ev.clarification_id or "", []).append(ev)
    out = []
    for req in requests:
        ans = answers.get(req.request_id)
        out.append(ClarificationRead(
            request_id=req.request_id, criteria=req.criteria, message=req.message, due_at=req.due_at,
            requested_by=req.requested_by,
            state=domain.clarification_state(due_at=req.due_at, now=now, answered=ans is not None,
                                             expired=req.state == "expired"),
            answered_at=ans.answered_at if ans else None, answers=ans.answers.get("criteria", {}) if ans else None,
            evidence=[EvidenceRead.model_validate(e) for e in by_request.get(req.request_id, [])]))
    return out


async def open_request(runtime: ServiceRuntime, sub: Submission, request_id: str) -> ClarificationRequest:
    """The request if it may still be answered (`domain.ensure_answerable` says why not)."""
    async with runtime.db.sessionmaker() as session:
        req = await session.get(ClarificationRequest, request_id)
        answered = (await _answers(session, sub.id)).get(request_id)
    if req is not None and req.submission_id != sub.id:
        req = None
    domain.ensure_answerable(request_id, due_at=req.due_at if req else None, now=datetime.now(UTC),
                             answered=answered is not None or (req is not None and req.state == "answered"),
                             expired=req is not None and req.state == "expired")
    assert req is not None
    return req


def _named_only(req: ClarificationRequest, criteria: list[str], field: str) -> None:
    errors = [{"field": f"{field}.{c}" if field else c,
               "reason": f"not named in this request (it asks about {', '.join(req.criteria)})"}
              for c in criteria if c not in req.criteria]
    if errors:
        raise CriterionNotRequested("Answer only the criteria the request names.", errors=errors)


def _city_only(principal: Principal) -> None:
    if principal.role != Role.CITY:
        raise Forbidden("Only the city's staff answer clarification requests.")


async def add_file(runtime: ServiceRuntime, opts: IntakeOptions, principal: Principal, sub: Submission,
                   request_id: str, criterion_id: str, request: Request) -> Evidence:
    """Upload a file for an open request, on one of the criteria it names."""
    _city_only(principal)
    req = await open_request(runtime, sub, request_id)
    _named_only(req, [criterion_id], "")
    target = evidence.Target(sub.assessment_id, sub.city_id, sub.cycle, criterion_id, clarification_id=request_id)

    async def still_open(session: AsyncSession, _assessment) -> None:
        if request_id in await _answers(session, sub.id):
            raise ClarificationAnswered(f"The clarification request {request_id} was answered.")

    with await uploads.receive(request, evidence.max_file_bytes(opts)) as upload:
        return await evidence.store_file(runtime, opts, target, upload, user_id=principal.sub, recheck=still_open)


async def answer(runtime: ServiceRuntime, principal: Principal, sub: Submission, request_id: str,
                 data: ClarificationAnswerCreate) -> ClarificationRead:
    _city_only(principal)
    req = await open_request(runtime, sub, request_id)
    _named_only(req, list(data.answers), "answers")
    missing = [c for c in req.criteria if c not in data.answers]
    if missing:
        raise AnswerIncomplete("Answer every criterion the request names.",
                           errors=[{"field": f"answers.{c}", "reason": "named in the request: give a new narrative"}
                                   for c in missing])
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        for cid, item in data.answers.items():
            for url in item.links:
                session.add(Evidence(assessment_id=sub.assessment_id, criterion_id=cid, kind=EvidenceKind.LINK,
                                     url=str(url),
                                     clarification_id=request_id, uploaded_by=principal.sub, created_at=now))
        await session.flush()
        sent = await _evidence(session, sub, request_id)
        stored = {
            "request": {"criteria": req.criteria, "message": req.message, "due_at": req.due_at.isoformat(),
                        "requested_by": req.requested_by},
            "criteria": {cid: {"narrative": item.narrative,
                               "evidence_ids": [e.id for e in sent if e.criterion_id == cid]}
                         for cid, item in data.answers.items()},
        }
        inserted = await insert_if_absent(session, ClarificationAnswer, id=new_id(), submission_id=sub.id,
                                          request_id=request_id, answers=stored, answered_by=principal.sub,
                                          answered_at=now)
        if not inserted:
            raise ClarificationAnswered(f"The clarification request {request_id} was already answered.")
        await session.execute(update(ClarificationRequest).where(ClarificationRequest.request_id == request_id)
                              .values(state="answered"))
        # Audit shows the new narratives and files beside what was submitted; the workflow
        # stops waiting for this round.
        await gateway.signal(session, sub.id, Signal.CLARIFICATION_ANSWERED,
                             AnswerSignal(request_id=request_id, answered_at=now))
        await add_event(session, make_event(
            Subject.CLARIFICATION_ANSWERED,
            AnsweredEvent(submission_id=sub.id, request_id=request_id, answered_at=now, answered_by=principal.sub,
                          answers={cid: CriterionAnswerSent(narrative=item.narrative, evidence=[
                              evidence_item(e) for e in sent if e.criterion_id == cid])
                              for cid, item in data.answers.items()}),
            submission_id=sub.id, city_id=sub.city_id, correlation_id=sub.id))
    runtime.wake_relay()
    return ClarificationRead(request_id=req.request_id, criteria=req.criteria, message=req.message,
                             due_at=req.due_at, requested_by=req.requested_by, state=ClarificationState.ANSWERED,
                             answered_at=now, answers=stored["criteria"],
                             evidence=[EvidenceRead.model_validate(e) for e in sent])


def evidence_item(ev: Evidence) -> EvidenceItem:
    return EvidenceItem(id=ev.id, criterion_id=ev.criterion_id, kind=ev.kind, filename=ev.filename,
                        object_key=ev.object_key, size=ev.size, sha256=ev.sha256, content_type=ev.content_type,
                        url=ev.url, title=ev.title)

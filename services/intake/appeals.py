"""Appealing audited findings: once its certification completed, and within the
programme's window (`appeal_window_days`, kept on the submission), a city may appeal the
findings the audit changed, once, with a statement per criterion and new evidence
(uploaded first, through the same checks as any evidence, and kept apart from the frozen
submission). In one transaction the appeal is stored, `wwc.intake.appeal.filed` published
and the workflow told (`appeal_filed`, delivered by certification.gateway after commit).
Audit's `appeal.decided` brings the decisions back (subscribers.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from certification import gateway
from certification.contract import AppealedCriterion, AppealFiled, Signal, Stage
from services.intake import evidence, progress, uploads
from services.intake.clarifications import evidence_item
from services.intake.config import IntakeOptions
from services.intake.drafts import EvidenceRead
from services.intake.errors import AppealExists, AppealNotOpen, AppealWindowClosed, Forbidden, NotAppealable, NotFound
from services.intake.models import Appeal, Evidence, Submission
from shared.contracts.events import AppealedCriterionSent, AppealSubmitted, Subject, make_event
from shared.infra.auth import Principal, Role
from shared.infra.orm import insert_if_absent
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime

STATEMENT_MAX = 4000


class AppealedCriterionCreate(BaseModel):
    criterion_id: str = Field(min_length=1, max_length=20)
    statement: str = Field(min_length=1, max_length=STATEMENT_MAX,
                           description="why the audited finding is wrong (the deciding auditors read it)")

    @field_validator("statement")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("write why the finding should change")
        return v.strip()


class AppealCreate(BaseModel):
    """The findings appealed, each with a statement; files for a criterion are uploaded
    first to the appeal's file endpoint and go with it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"criteria": [
        {"criterion_id": "DG1", "statement": "The policy was adopted in March; the council minutes are attached."}]}]})

    criteria: list[AppealedCriterionCreate] = Field(min_length=1, max_length=60)


class AppealDecisionRead(BaseModel):
    criterion_id: str
    outcome: str = Field(description="upheld (the audited finding stands) or overturned")
    before: str
    response: str
    reason_code: str = ""
    explanation: str = ""


class AppealedCriterionRead(BaseModel):
    criterion_id: str
    statement: str
    evidence: list[EvidenceRead] = Field(default_factory=list)
    decision: AppealDecisionRead | None = None


class AppealRead(BaseModel):
    id: str
    submission_id: str
    status: str = Field(description="filed | deciding | decided")
    filed_at: datetime
    filed_by_name: str = ""
    open_until: datetime | None = None
    criteria: list[AppealedCriterionRead]
    decided_at: datetime | None = None
    report_url: str | None = Field(default=None, description="once decided: the report that stands now")


def appeal_id_of(sub: Submission) -> str:
    """One appeal per submission: its id is known before it is filed (its files carry it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"wwc-appeal:{sub.id}"))


def appealable(sub: Submission) -> dict[str, progress.AuditedLine]:
    """The findings the audit changed: the only ones a city may appeal."""
    return {c: line for c, line in progress.audited_of(sub).items() if line.changed}


def _city_only(principal: Principal, sub: Submission) -> None:
    if principal.role != Role.CITY or principal.city_id != sub.city_id:
        raise Forbidden("Only the city's own staff appeal its certification.")


def ensure_open(sub: Submission, now: datetime) -> datetime:
    """The window's end, if an appeal may be filed now."""
    until = progress.appeal_open_until(sub)
    if progress.completed_at(sub) is None or (sub.appeal_window_days == 0):
        raise AppealNotOpen("An appeal can be filed once the certification is completed.")
    if until is None or now > until:
        raise AppealWindowClosed(f"The appeal window closed on {until.isoformat() if until else 'completion'}.",
                                 open_until=until.isoformat() if until else None)
    return until


def _only_appealable(sub: Submission, criteria: list[str], field: str) -> None:
    changed = appealable(sub)
    errors = [{"field": field.format(i=i, c=c), "reason": "the audit did not change this finding"
               if c in progress.audited_of(sub) else "not a criterion of this certification"}
              for i, c in enumerate(criteria) if c not in changed]
    if errors:
        raise NotAppealable("Only findings the audit changed can be appealed.", errors=errors)


async def existing(session: AsyncSession, sub: Submission) -> Appeal | None:
    return await session.scalar(select(Appeal).where(Appeal.submission_id == sub.id))


async def _files(session: AsyncSession, sub: Submission) -> list[Evidence]:
    return list((await session.scalars(select(Evidence).where(
        Evidence.assessment_id == sub.assessment_id, Evidence.clarification_id == appeal_id_of(sub))
        .order_by(Evidence.created_at))).all())


async def add_file(runtime: ServiceRuntime, opts: IntakeOptions, principal: Principal, sub: Submission,
                   criterion_id: str, request: Request) -> Evidence:
    """New evidence for an appealable finding, before the appeal is filed."""
    _city_only(principal, sub)
    ensure_open(sub, datetime.now(UTC))
    _only_appealable(sub, [criterion_id], "criterion_id")
    async with runtime.db.sessionmaker() as session:
        if await existing(session, sub) is not None:
            raise AppealExists("This certification was already appealed.")
    target = evidence.Target(sub.assessment_id, sub.city_id, sub.cycle, criterion_id,
                             clarification_id=appeal_id_of(sub))

    async def not_filed(session: AsyncSession, _assessment) -> None:
        if await existing(session, sub) is not None:
            raise AppealExists("This certification was already appealed.")

    with await uploads.receive(request, evidence.max_file_bytes(opts)) as upload:
        return await evidence.store_file(runtime, opts, target, upload, user_id=principal.sub, recheck=not_filed)


async def file(runtime: ServiceRuntime, principal: Principal, sub: Submission, data: AppealCreate) -> AppealRead:
    _city_only(principal, sub)
    now = datetime.now(UTC)
    until = ensure_open(sub, now)
    ids = [c.criterion_id for c in data.criteria]
    dupes = sorted({c for c in ids if ids.count(c) > 1})
    if dupes:
        raise NotAppealable("Appeal each finding once.", errors=[
            {"field": f"criteria.{ids.index(c)}.criterion_id", "reason": "named twice"} for c in dupes])
    _only_appealable(sub, ids, "criteria.{i}.criterion_id")
    appeal_id = appeal_id_of(sub)
    async with runtime.db.transaction() as session:
        files = [f for f in await _files(session, sub) if f.criterion_id in ids]
        stored = {c.criterion_id: {"statement": c.statement,
                                   "evidence_ids": [f.id for f in files if f.criterion_id == c.criterion_id]}
                  for c in data.criteria}
        inserted = await insert_if_absent(session, Appeal, id=appeal_id, submission_id=sub.id, city_id=sub.city_id,
                                          criteria=stored, filed_by=principal.sub,
                                          filed_by_name=principal.name or "", filed_at=now)
        if not inserted:
            raise AppealExists("This certification was already appealed.")
        items = {c.criterion_id: [evidence_item(f) for f in files if f.criterion_id == c.criterion_id]
                 for c in data.criteria}
        await gateway.signal(session, sub.id, Signal.APPEAL_FILED, AppealFiled(
            appeal_id=appeal_id, criteria=ids, filed_at=now, filed_by_name=principal.name or "",
            statements=[AppealedCriterion(criterion_id=c.criterion_id, statement=c.statement,
                                          evidence=items[c.criterion_id]) for c in data.criteria]))
        await add_event(session, make_event(
            Subject.APPEAL_FILED,
            AppealSubmitted(submission_id=sub.id, appeal_id=appeal_id, city_id=sub.city_id, filed_at=now,
                            filed_by=principal.sub, filed_by_name=principal.name or "",
                            criteria=[AppealedCriterionSent(criterion_id=c.criterion_id, statement=c.statement,
                                                            evidence=items[c.criterion_id]) for c in data.criteria]),
            submission_id=sub.id, city_id=sub.city_id, correlation_id=sub.id))
        appeal = await existing(session, sub)
        assert appeal is not None
        out = read(sub, appeal, files, until)
    runtime.wake_relay()
    return out


def read(sub: Submission, appeal: Appeal, files: list[Evidence], until: datetime | None = None) -> AppealRead:
    decided = {d["criterion_id"]: d for d in appeal.decisions or []}
    if appeal.decisions is not None:
        status = "decided"
    elif sub.status == Stage.APPEAL.value:
        status = "deciding"
    else:
        status = "filed"
    by_id = {f.id: f for f in files}
    return AppealRead(
        id=appeal.id, submission_id=sub.id, status=status, filed_at=appeal.filed_at,
        filed_by_name=appeal.filed_by_name, open_until=until or progress.appeal_open_until(sub),
        criteria=[AppealedCriterionRead(
            criterion_id=cid, statement=item["statement"],
            evidence=[EvidenceRead.model_validate(by_id[e]) for e in item.get("evidence_ids", []) if e in by_id],
            decision=AppealDecisionRead.model_validate(decided[cid]) if cid in decided else None)
            for cid, item in appeal.criteria.items()],
        decided_at=appeal.decided_at, report_url=sub.report_url if appeal.decisions is not None else None)


async def get(runtime: ServiceRuntime, sub: Submission) -> AppealRead:
    async with runtime.db.sessionmaker() as session:
        appeal = await existing(session, sub)
        if appeal is None:
            raise NotFound(f"no appeal of submission {sub.id}")
        files = await _files(session, sub)
        fresh = await session.get(Submission, sub.id)
    return read(fresh or sub, appeal, files)

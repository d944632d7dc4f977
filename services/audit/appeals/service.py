"""Appeals of audited findings. The workflow opens one (`audit.open_appeal`) once the city
appealed within the programme's window; it carries the appealed findings, the city's
statements and new evidence, and who took part in the review. Audit adds what it knows of
the review case (everyone who ever held it, decided a criterion, submitted it for
sign-off, reviewed it blind or approved it): none of them may decide or sign off the
appeal, nor anyone with a conflict of interest with the city.

One independent auditor decides each criterion (upheld: the audited finding stands;
overturned: the response the city showed stands), with a reason from the catalog's
`audit_reasons` and an explanation the city reads; a second independent auditor, not the
decider, signs it off (four eyes). Only then is `wwc.audit.appeal.decided` published and
the workflow signalled (`appeal_decided`). Every step is on the case's hash-chained trail
(its own chain when the review was automatic and no case exists).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from certification import gateway
from certification.activities import AppealOpened, AppealRequest
from certification.contract import AppealDecided as DecidedSignal
from certification.contract import AppealDecision as DecisionSignal
from certification.contract import Signal
from services.audit import directory
from services.audit.cases import service as cases
from services.audit.conflicts import service as conflicts
from services.audit.config import AuditOptions
from services.audit.domain import Place
from services.audit import domain
from services.audit.errors import (
    AppealIncomplete,
    AppealState,
    DecisionInvalid,
    FourEyes,
    NotFound,
    NotIndependent,
)
from services.audit.models import Appeal, AppealDecision, Decision, ReviewCase, Signoff, TrailRecord
from services.audit.trail import service as trail
from shared.catalog.loader import load_catalog
from shared.contracts.events import (
    AppealCaseOpened,
    AppealCriterionDecided,
    AppealDueSoon,
    AppealOverdue,
    AppealResolved,
    Subject,
    make_event,
)
from shared.contracts.text import SingleLine
from shared.contracts.vocabulary import Answer, AppealOutcome, ReviewReminderKind
from shared.infra.auth import Principal
from shared.infra.orm import insert_if_absent, utcnow
from shared.infra.outbox import add_event

OPEN, SIGNOFF, DECIDED = "open", "signoff", "decided"


class AppealDecisionWrite(BaseModel):
    criterion_id: SingleLine = Field(min_length=1, max_length=40)
    outcome: AppealOutcome
    reason_code: SingleLine = Field(min_length=1, max_length=80,
                                    description="one of the catalog's `audit_reasons`")
    explanation: str = Field(min_length=1, max_length=4000, description="what the city reads")
    response: Answer | None = Field(default=None, description="overturned: the response that stands instead (by "
                                                              "default the one the city submitted)")


class AppealDecisionRead(BaseModel):
    criterion_id: str
    outcome: AppealOutcome
    response: Answer
    reason_code: str
    explanation: str
    decided_by: str
    decided_at: datetime


class AppealFindingRead(BaseModel):
    criterion_id: str
    criterion_name: str = ""
    submitted: Answer | None = None
    audited: Answer
    statement: str
    evidence: list[dict] = Field(default_factory=list)
    original_reason_code: str = ""
    original_explanation: str = ""
    decision: AppealDecisionRead | None = None


class AppealRead(BaseModel):
    id: str
    submission_id: str
    case_id: str | None = None
    city_id: str
    city_name: str
    status: str
    filed_at: datetime
    filed_by_name: str = ""
    opened_at: datetime
    due_at: datetime
    excluded: list[str] = Field(description="took part in the review: may not decide or sign off the appeal")
    deciders: list[str] = Field(default_factory=list)
    signed_off_by: str | None = None
    decided_at: datetime | None = None
    overdue: bool = Field(default=False, description="not signed off by its due date")
    findings: list[AppealFindingRead]


# --- opening (the workflow's activity) ---------------------------------------------------------


async def took_part(session: AsyncSession, case: ReviewCase | None) -> set[str]:
    """Everyone who had a hand in the review: held it, decided, submitted, reviewed blind, approved."""
    if case is None:
        return set()
    people = {*(case.deciders or []), case.reviewer_id, case.approved_by, case.second_reviewer_id, case.holder_id}
    people |= {s.by for s in (await session.scalars(select(Signoff).where(Signoff.case_id == case.id))).all()}
    for rec in (await session.scalars(select(TrailRecord).where(TrailRecord.chain == trail.case_chain(case.id)))).all():
        if isinstance(rec.after, dict) and rec.after.get("holder_id"):
            people.add(rec.after["holder_id"])
        if rec.actor_role == "auditor":
            people.add(rec.actor_id)
    return {p for p in people if p}


async def open_appeal(session: AsyncSession, options: AuditOptions, req: AppealRequest) -> Appeal:
    """Open the appeal once (the activity may run again: the same appeal comes back)."""
    case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == req.submission_id))
    excluded = sorted(set(req.reviewers) | await took_part(session, case))
    now = utcnow()
    created = await insert_if_absent(
        session, Appeal, id=req.appeal_id, submission_id=req.submission_id, case_id=case.id if case else None,
        city_id=req.city_id, city_name=req.city_name, cycle=req.cycle, catalog_version=req.catalog_version,
        status=OPEN, findings=[f.model_dump(mode="json") for f in req.criteria], excluded=excluded,
        filed_at=req.filed_at, filed_by_name=req.filed_by_name, opened_at=now, due_at=now + options.appeal_sla,
        version=0)
    appeal = await session.scalar(select(Appeal).where(Appeal.submission_id == req.submission_id)
                                  .execution_options(populate_existing=True))
    assert appeal is not None
    if created:
        await _record(session, appeal, trail.WORKFLOW, "appeal.opened", after={
            "appeal_id": appeal.id, "criteria": [f.criterion_id for f in req.criteria],
            "due_at": appeal.due_at.isoformat(), "excluded": excluded}, reason="the city appealed audited findings")
        await add_event(session, make_event(Subject.APPEAL_OPENED, AppealCaseOpened(
            submission_id=appeal.submission_id, appeal_id=appeal.id, city_id=appeal.city_id,
            criteria=[f.criterion_id for f in req.criteria], opened_at=appeal.opened_at, due_at=appeal.due_at),
            submission_id=appeal.submission_id, city_id=appeal.city_id))
    return appeal


def opened(appeal: Appeal, options: AuditOptions) -> AppealOpened:
    return AppealOpened(appeal_id=appeal.id, due_at=appeal.due_at, remind_before=options.remind_before)


async def remind(session: AsyncSession, appeal_id: str, kind: ReviewReminderKind, due_at: datetime,
                 correlation_id: str = "") -> bool:
    """Due soon, or overdue: on the trail and published once per due date (the activity may
    be retried; the queue shows it). `wwc.audit.appeal.due_soon` names the auditors who
    decided criteria so far (notify mails them, or operators when nobody has or it waits for
    a sign-off); `wwc.audit.appeal.overdue` goes to operators. False when nothing was sent
    (already sent, or the appeal is decided)."""
    due_soon = kind == ReviewReminderKind.DUE_SOON
    column = Appeal.reminded_for if due_soon else Appeal.escalated_for
    result = await session.execute(update(Appeal).where(
        Appeal.id == appeal_id, Appeal.status != DECIDED, column.is_(None) | (column != due_at))
        .values({column.key: due_at, "version": Appeal.version + 1}).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    appeal = await session.get(Appeal, appeal_id, populate_existing=True)
    assert appeal is not None
    deciders = sorted({d.decided_by for d in (await decisions_of(session, appeal.id)).values()})
    await _record(session, appeal, trail.WORKFLOW, "appeal.reminded" if due_soon else "appeal.escalated",
                  after={"due_at": due_at.isoformat(), "status": appeal.status, "deciders": deciders})
    fields = dict(submission_id=appeal.submission_id, appeal_id=appeal.id, case_id=appeal.case_id,
                  city_id=appeal.city_id, city_name=appeal.city_name, status=appeal.status, auditor_ids=deciders,
                  due_at=due_at)
    subject, payload = ((Subject.APPEAL_DUE_SOON, AppealDueSoon(**fields)) if due_soon
                        else (Subject.APPEAL_OVERDUE, AppealOverdue(**fields)))
    await add_event(session, make_event(subject, payload, submission_id=appeal.submission_id, city_id=appeal.city_id,
                                        correlation_id=correlation_id or appeal.submission_id))
    return True


# --- reading ----------------------------------------------------------------------------------


async def by_id(session: AsyncSession, appeal_id: str) -> Appeal:
    appeal = await session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}")
    return appeal


async def decisions_of(session: AsyncSession, appeal_id: str) -> dict[str, AppealDecision]:
    rows = await session.scalars(select(AppealDecision).where(AppealDecision.appeal_id == appeal_id))
    return {d.criterion_id: d for d in rows.all()}


async def listing(session: AsyncSession) -> list[Appeal]:
    """Open ones first (soonest due), then the decided."""
    rows = (await session.scalars(select(Appeal).order_by(Appeal.due_at))).all()
    return sorted(rows, key=lambda a: (a.status == DECIDED, a.due_at))


def _names(appeal: Appeal, lang: str = "en") -> dict[str, str]:
    try:
        catalog = load_catalog(appeal.catalog_version)
    except Exception:  # an unknown catalog shows ids rather than failing the page
        return {}
    return {c.id: catalog.text(c, lang) for c in catalog.criteria}


async def read(session: AsyncSession, appeal: Appeal, lang: str = "en") -> AppealRead:
    made = await decisions_of(session, appeal.id)
    case = await session.get(ReviewCase, appeal.case_id) if appeal.case_id else None
    original = {}
    if case is not None:
        original = {d.criterion_id: d for d in (await session.scalars(
            select(Decision).where(Decision.case_id == case.id))).all()}
    names = _names(appeal, lang)
    findings = []
    for f in appeal.findings:
        cid = f["criterion_id"]
        d, o = made.get(cid), original.get(cid)
        findings.append(AppealFindingRead(
            criterion_id=cid, criterion_name=names.get(cid, ""), submitted=f.get("submitted"), audited=f["audited"],
            statement=f.get("statement", ""), evidence=f.get("evidence", []),
            original_reason_code=o.reason_code if o else "", original_explanation=o.explanation if o else "",
            decision=AppealDecisionRead(criterion_id=cid, outcome=d.outcome, response=d.response,
                                        reason_code=d.reason_code, explanation=d.explanation, decided_by=d.decided_by,
                                        decided_at=d.decided_at) if d else None))
    return AppealRead(id=appeal.id, submission_id=appeal.submission_id, case_id=appeal.case_id,
                      city_id=appeal.city_id, city_name=appeal.city_name, status=appeal.status,
                      filed_at=appeal.filed_at, filed_by_name=appeal.filed_by_name, opened_at=appeal.opened_at,
                      due_at=appeal.due_at, excluded=list(appeal.excluded or []),
                      deciders=sorted({d.decided_by for d in made.values()}), signed_off_by=appeal.signed_off_by,
                      decided_at=appeal.decided_at, findings=findings,
                      overdue=appeal.status != DECIDED and utcnow() > appeal.due_at)


# --- deciding and signing off ----------------------------------------------------------------


async def _independent(session: AsyncSession, principal: Principal, appeal: Appeal, action: str) -> None:
    cases.ensure_auditor(principal)
    await directory.know(session, principal)
    if principal.sub in set(appeal.excluded or []):
        raise NotIndependent(f"You took part in the review of this certification: you cannot {action} its appeal.",
                             action=action)
    known = await directory.city(session, appeal.city_id)
    case = await session.get(ReviewCase, appeal.case_id) if appeal.case_id else None
    place = conflicts.place_of(case) if case is not None else Place(
        city_id=appeal.city_id, country=known.country if known else "", state=known.state if known else "")
    domain.ensure_not_conflicted(await conflicts.rules(session, principal.sub), place, who="You",
                                 action=f"{action} this appeal")


async def _lock(session: AsyncSession, appeal: Appeal, *states: str) -> Appeal:
    result = await session.execute(update(Appeal).where(Appeal.id == appeal.id, Appeal.status.in_(states))
                                   .values(version=Appeal.version + 1).execution_options(synchronize_session=False))
    locked = await session.get(Appeal, appeal.id, populate_existing=True)
    assert locked is not None
    if result.rowcount != 1:
        raise AppealState(f"The appeal is {locked.status}: not possible now.", status=locked.status)
    return locked


async def decide(session: AsyncSession, principal: Principal, appeal: Appeal,
                 data: AppealDecisionWrite) -> AppealDecision:
    await _independent(session, principal, appeal, "decide")
    locked = await _lock(session, appeal, OPEN)
    finding = next((f for f in locked.findings if f["criterion_id"] == data.criterion_id), None)
    if finding is None:
        raise DecisionInvalid("Decide only the criteria the city appealed.", field="criterion_id",
                              reason=f"not appealed (appealed: {', '.join(f['criterion_id'] for f in locked.findings)})")
    reasons = [r.id for r in load_catalog(locked.catalog_version).audit_reasons] if locked.catalog_version else []
    if reasons and data.reason_code not in reasons:
        raise DecisionInvalid("Give a reason from the catalog's list.", field="reason_code",
                              reason=f"not one of {', '.join(reasons)}")
    audited = Answer(finding["audited"])
    if data.outcome == AppealOutcome.UPHELD:
        response = audited
    else:
        response = data.response or (Answer(finding["submitted"]) if finding.get("submitted") else None)
        if response is None or response == audited:
            raise DecisionInvalid("An overturned finding needs a response other than the audited one.",
                                  field="response", reason=f"the audited response is {audited.value}")
    made = await decisions_of(session, locked.id)
    before = made.get(data.criterion_id)
    values = dict(outcome=data.outcome.value, response=response.value, reason_code=data.reason_code,
                  explanation=data.explanation.strip(), decided_by=principal.sub, decided_at=utcnow())
    if before is None:
        row = AppealDecision(appeal_id=locked.id, criterion_id=data.criterion_id, **values)
        session.add(row)
    else:
        old = {"outcome": before.outcome, "response": before.response, "decided_by": before.decided_by}
        for k, v in values.items():
            setattr(before, k, v)
        row = before
    await session.flush()
    await _record(session, locked, trail.Actor.of(principal), "appeal.decided_criterion",
                  before=None if before is None else old,
                  after={"criterion_id": data.criterion_id, "outcome": values["outcome"],
                         "response": values["response"], "reason_code": data.reason_code},
                  reason=values["explanation"])
    if len(await decisions_of(session, locked.id)) == len(locked.findings):
        locked.status = SIGNOFF
    return row


async def sign_off(session: AsyncSession, principal: Principal, appeal: Appeal) -> AppealResolved:
    """A second independent auditor, not a decider of it, signs the decided appeal off."""
    await _independent(session, principal, appeal, "sign off")
    made = await decisions_of(session, appeal.id)
    missing = [f["criterion_id"] for f in appeal.findings if f["criterion_id"] not in made]
    if missing:
        raise AppealIncomplete(f"{len(missing)} appealed criteria have no decision yet.",
                               errors=[{"field": c, "reason": "no decision yet"} for c in missing])
    if principal.sub in {d.decided_by for d in made.values()}:
        raise FourEyes("An auditor who decided criteria of this appeal cannot sign it off.", role="decider")
    locked = await _lock(session, appeal, SIGNOFF)
    now = utcnow()
    locked.status, locked.signed_off_by, locked.decided_at = DECIDED, principal.sub, now
    audited = {f["criterion_id"]: f["audited"] for f in locked.findings}
    ordered = [made[f["criterion_id"]] for f in locked.findings]
    deciders = sorted({d.decided_by for d in ordered})
    await _record(session, locked, trail.Actor.of(principal), "appeal.signed_off", after={
        "status": DECIDED, "signed_off_by": principal.sub, "decided_by": deciders,
        "decisions": {d.criterion_id: d.outcome for d in ordered}})
    resolved = AppealResolved(
        submission_id=locked.submission_id, appeal_id=locked.id, case_id=locked.case_id, city_id=locked.city_id,
        decisions=[AppealCriterionDecided(criterion_id=d.criterion_id, outcome=d.outcome,
                                          before=audited[d.criterion_id], response=d.response,
                                          reason_code=d.reason_code, explanation=d.explanation) for d in ordered],
        decided_by=", ".join(deciders), signed_off_by=principal.sub, decided_at=now)
    await add_event(session, make_event(Subject.APPEAL_DECIDED, resolved, submission_id=locked.submission_id,
                                        city_id=locked.city_id, correlation_id=locked.submission_id))
    await gateway.signal(session, locked.submission_id, Signal.APPEAL_DECIDED, DecidedSignal(
        appeal_id=locked.id, decided_by=resolved.decided_by, signed_off_by=principal.sub, decided_at=now,
        decisions=[DecisionSignal(criterion_id=d.criterion_id, outcome=d.outcome, response=d.response,
                                  reason_code=d.reason_code, explanation=d.explanation) for d in ordered]))
    return resolved


# --- the trail --------------------------------------------------------------------------------


async def _record(session: AsyncSession, appeal: Appeal, actor: trail.Actor, action: str, **kwargs) -> None:
    """On the review case's chain (checkpointed like every case record); an appeal of an
    automatic review, which has no case, keeps its own chain."""
    case = await session.get(ReviewCase, appeal.case_id) if appeal.case_id else None
    if case is not None:
        await cases.record(session, case, actor, action, **kwargs)
    else:
        await trail.append(session, f"appeal:{appeal.id}", actor, action, **kwargs)

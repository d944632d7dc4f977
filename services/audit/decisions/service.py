"""Decisions: per criterion the holder confirms the submitted response or changes it to
YES, IN_PROGRESS or NO. A change carries a reason code from the submission's catalog
(standard texts in en/es/pt), the explanation the city reads and, when it lowers the
response, what would satisfy the criterion. Each decision records who, when, and the
evidence in view (ids with SHA-256 or address).

Saving is versioned: a save names the version it read (0 for none) and is refused with
`decision_conflict` if the decision moved on meanwhile, never overwriting it silently.

Each decision also records the version of the criterion's answers and evidence it judged
(`judged`): newer material marks it "changed since decided" until it is saved again or
confirmed with a note (`reconfirm`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import domain
from services.audit.cases import service as cases
from services.audit.cases import evidence
from services.audit.decisions import judged
from services.audit.rounds import service as rounds
from services.audit.trail import service as trail
from services.audit.domain import DECIDABLE
from services.audit.errors import DecisionConflict, DecisionInvalid, NotFound, NotHolder, NothingChanged
from services.audit.models import BlindDecision, CallNote, ClarificationRound, Decision, ReviewCase
from shared.catalog.loader import load_catalog
from shared.catalog.model import Catalog
from shared.contracts.events import AuditedChange
from shared.contracts.vocabulary import Answer
from shared.infra.auth import Principal
from shared.infra.orm import insert_if_absent, new_id, utcnow


class DecisionWrite(BaseModel):
    response: Answer
    reason_code: str = Field(default="", max_length=80, description="for a change: an `audit_reasons` id")
    explanation: str = Field(default="", max_length=4000, description="for a change: what the city reads")
    what_would_satisfy: str = Field(default="", max_length=4000,
                                    description="for a change that lowers the response: the missing document "
                                                "or practice (the report's next step)")
    version: int = Field(ge=0, le=2**31, description="the decision's version you read; 0 when there is none")
    evidence_ids: list[str] | None = Field(default=None, max_length=500,
                                           description="the evidence in view; default: all of the criterion's")
    call_note_id: str | None = Field(default=None, max_length=36,
                                     description="the review call's note that led to this decision")


class DecisionReconfirm(BaseModel):
    version: int = Field(ge=1, le=2**31, description="the decision's version you read")
    note: str = Field(min_length=1, max_length=4000,
                      description="why the decision stands although the answers or evidence changed")


class DecisionRead(BaseModel):
    criterion_id: str
    submitted: Answer
    response: Answer
    changed: bool
    reason_code: str = ""
    reason_text: str = ""
    explanation: str = ""
    what_would_satisfy: str = ""
    evidence: list[dict] = Field(default_factory=list)
    call_note_id: str | None = None
    decided_by: str
    decided_at: datetime
    version: int
    judged_version: int = Field(default=1, description="the version of the criterion's answers and evidence judged "
                                                       "(1: as submitted; each clarification answer adds one)")
    changed_since_decided: bool = Field(default=False, description="newer answers or evidence than it judged: "
                                                                   "decide again or confirm with a note")
    note: str = Field(default="", description="why it stands although the material changed")


def catalog_of(case: ReviewCase) -> Catalog:
    return load_catalog(case.catalog_version or cases.frozen(case).catalog_version)


def read(d: Decision, catalog: Catalog, lang: str = "en",
         mats: dict | None = None) -> DecisionRead:
    text = catalog.text(catalog.audit_reason(d.reason_code).text, lang) \
        if d.reason_code and catalog.has_audit_reason(d.reason_code) else ""
    return DecisionRead(criterion_id=d.criterion_id, submitted=d.submitted, response=d.response,
                        changed=d.response != d.submitted, reason_code=d.reason_code, reason_text=text,
                        explanation=d.explanation, what_would_satisfy=d.what_would_satisfy, evidence=d.evidence,
                        call_note_id=d.call_note_id, decided_by=d.decided_by, decided_at=d.decided_at,
                        version=d.version, judged_version=d.judged_version or 1, note=d.note or "",
                        changed_since_decided=judged.is_changed(d, mats) if mats is not None else False)


async def of_case(session: AsyncSession, case_id: str) -> dict[str, Decision]:
    rows = await session.scalars(select(Decision).where(Decision.case_id == case_id)
                                 .execution_options(populate_existing=True))
    return {d.criterion_id: d for d in rows.all()}


def facts(d: Decision) -> domain.DecisionFacts:
    return domain.DecisionFacts(criterion=d.criterion_id, submitted=d.submitted, response=d.response,
                                reason_code=d.reason_code, explanation=d.explanation,
                                what_would_satisfy=d.what_would_satisfy,
                                evidence=tuple((e["id"], e.get("fingerprint", "")) for e in d.evidence),
                                decided_by=d.decided_by, version=d.version)


def hash_of(decisions: Iterable[Decision]) -> str:
    return domain.decisions_hash(facts(d) for d in decisions)


def changes(decisions: Iterable[Decision]) -> list[AuditedChange]:
    return [AuditedChange(criterion=d.criterion_id, from_response=d.submitted, to_response=d.response,
                          reason_code=d.reason_code, explanation=d.explanation,
                          what_would_satisfy=d.what_would_satisfy)
            for d in sorted(decisions, key=lambda d: d.criterion_id) if d.response != d.submitted]


def _seen(items: list[evidence.EvidenceView]) -> list[dict]:
    return [{"id": e.id, "fingerprint": e.fingerprint, "name": e.title or e.filename or e.url or "",
             "round": e.round} for e in items]


async def materials(session: AsyncSession, case: ReviewCase) -> dict:
    return judged.materials(case, await rounds.of_case(session, case.id))


async def _lock_for_decisions(session: AsyncSession, principal: Principal, case: ReviewCase) -> ReviewCase:
    locked = await cases.lock(session, case.id, ReviewCase.holder_id == principal.sub,
                              ReviewCase.status.in_([s.value for s in DECIDABLE]))
    if locked is None:
        now = await cases.current(session, case.id)
        domain.ensure_state(now.status, DECIDABLE, "decided")
        raise NotHolder("You no longer hold this case.")
    return locked


async def save(session: AsyncSession, principal: Principal, case: ReviewCase, criterion_id: str,
               data: DecisionWrite) -> Decision:
    await cases.ensure_holder(session, principal, case, action="decide")
    domain.ensure_state(case.status, DECIDABLE, "decided")
    sub = cases.frozen(case)
    if criterion_id not in sub.responses:
        raise NotFound(f"{criterion_id} is not a criterion of this submission")
    catalog = catalog_of(case)
    submitted = sub.responses[criterion_id].response
    checked = domain.check_decision(submitted, domain.DecisionInput(
        response=data.response, reason_code=data.reason_code, explanation=data.explanation,
        what_would_satisfy=data.what_would_satisfy), [r.id for r in catalog.audit_reasons])
    case_rounds = await rounds.of_case(session, case.id)
    in_view = [e for e in evidence.of_case(case, case_rounds) if e.criterion_id == criterion_id]
    material = judged.materials(case, case_rounds)[criterion_id]
    if data.evidence_ids is not None:
        known = {e.id for e in in_view}
        unknown = [i for i in data.evidence_ids if i not in known]
        if unknown:
            raise DecisionInvalid(f"evidence_ids: not evidence of {criterion_id}: {', '.join(unknown)}",
                                  field="evidence_ids", reason=f"not evidence of {criterion_id}")
        in_view = [e for e in in_view if e.id in set(data.evidence_ids)]
    if data.call_note_id:
        note = await session.get(CallNote, data.call_note_id)
        if note is None or note.case_id != case.id:
            raise DecisionInvalid("call_note_id: not a call note of this case", field="call_note_id",
                                  reason="not a call note of this case")
    locked = await _lock_for_decisions(session, principal, case)
    before = (await of_case(session, case.id)).get(criterion_id)
    before_facts = _trail_facts(before) if before else None
    values = dict(submitted=submitted.value, response=checked.response.value, reason_code=checked.reason_code,
                  explanation=checked.explanation, what_would_satisfy=checked.what_would_satisfy,
                  evidence=_seen(in_view), call_note_id=data.call_note_id or None, decided_by=principal.sub,
                  decided_at=utcnow(), note="", **judged.judged(material))
    if data.version == 0:
        if not await insert_if_absent(session, Decision, id=new_id(), case_id=case.id, criterion_id=criterion_id,
                                      version=1, **values):
            raise _conflict(before)
    else:
        result = await session.execute(
            update(Decision).where(Decision.case_id == case.id, Decision.criterion_id == criterion_id,
                                   Decision.version == data.version)
            .values(version=Decision.version + 1, **values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise _conflict(before)
    saved = (await of_case(session, case.id))[criterion_id]
    took_part(locked, principal.sub)
    await cases.record(session, locked, trail.Actor.of(principal), "decision.saved", before=before_facts,
                       after=_trail_facts(saved), reason=saved.explanation)
    return saved


async def take_second(session: AsyncSession, case: ReviewCase, criterion_id: str, second: BlindDecision,
                      actor: trail.Actor, reason: str) -> Decision:
    """A resolution takes the second reviewer's decision: it becomes the criterion's decision
    (checked by the same rules, a new version, `decision.saved` on the trail by the resolver,
    decided by the second reviewer). `case` is locked by the caller."""
    current = (await of_case(session, case.id))[criterion_id]
    before = _trail_facts(current)
    checked = domain.check_decision(Answer(current.submitted), domain.DecisionInput(
        response=second.response, reason_code=second.reason_code, explanation=second.note,
        what_would_satisfy=second.what_would_satisfy), [r.id for r in catalog_of(case).audit_reasons])
    result = await session.execute(
        update(Decision).where(Decision.id == current.id, Decision.version == current.version)
        .values(version=Decision.version + 1, response=checked.response.value, reason_code=checked.reason_code,
                explanation=checked.explanation, what_would_satisfy=checked.what_would_satisfy,
                decided_by=second.auditor_id, decided_at=utcnow(), note=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _conflict(current)  # pragma: no cover - the case is locked
    saved = (await of_case(session, case.id))[criterion_id]
    took_part(case, second.auditor_id)
    await cases.record(session, case, actor, "decision.saved", before=before, after=_trail_facts(saved),
                       reason=reason)
    return saved


def took_part(case: ReviewCase, auditor_id: str) -> None:
    """Remember the decider for good: a later decision by someone else does not make them
    eligible to sign the review off (a new list, so the JSON column is written)."""
    if auditor_id not in (case.deciders or []):
        case.deciders = sorted({*(case.deciders or []), auditor_id})


def _conflict(current: Decision | None) -> DecisionConflict:
    if current is None:
        return DecisionConflict("There is no decision at that version: reload the criterion.", current_version=0)
    return DecisionConflict("The decision was saved meanwhile: reload it and decide again.",
                            current_version=current.version, decided_by=current.decided_by)


def _trail_facts(d: Decision) -> dict:
    return {"criterion": d.criterion_id, "submitted": d.submitted, "response": d.response,
            "reason_code": d.reason_code, "what_would_satisfy": d.what_would_satisfy,
            "evidence": [[e["id"], e.get("fingerprint", "")] for e in d.evidence],
            "call_note_id": d.call_note_id, "version": d.version, "judged_version": d.judged_version,
            "judged_fingerprint": d.judged_fingerprint}


async def confirm_remaining(session: AsyncSession, principal: Principal, case: ReviewCase) -> list[str]:
    """Confirm, as submitted, every criterion still without a decision (one action on the
    trail), except those under clarification or with new answers or evidence, which are
    decided one by one (`domain.bulk_confirmable`); returns the criteria confirmed."""
    await cases.ensure_holder(session, principal, case, action="decide")
    domain.ensure_state(case.status, DECIDABLE, "decided")
    sub = cases.frozen(case)
    locked = await _lock_for_decisions(session, principal, case)
    existing = await of_case(session, case.id)
    case_rounds = await rounds.of_case(session, case.id)
    by_crit = evidence.by_criterion(evidence.of_case(locked, case_rounds))
    mats = judged.materials(locked, case_rounds)
    asked = judged.in_open_rounds(case_rounds)
    catalog = catalog_of(locked)
    order = [c for c in catalog.criterion_ids if c in sub.responses] + \
        sorted(c for c in sub.responses if not catalog.has_criterion(c))
    now = utcnow()
    confirmed = []
    for cid in order:
        if cid in existing or not domain.bulk_confirmable(mats[cid], in_open_round=cid in asked):
            continue
        answer = sub.responses[cid].response.value
        await insert_if_absent(session, Decision, id=new_id(), case_id=case.id, criterion_id=cid, submitted=answer,
                               response=answer, reason_code="", explanation="", what_would_satisfy="",
                               evidence=_seen(by_crit.get(cid, [])), call_note_id=None, decided_by=principal.sub,
                               decided_at=now, version=1, note="", **judged.judged(mats[cid]))
        confirmed.append(cid)
    if confirmed:
        took_part(locked, principal.sub)
        await cases.record(session, locked, trail.Actor.of(principal), "decisions.confirmed",
                           after={cid: sub.responses[cid].response.value for cid in confirmed},
                           reason="confirmed as submitted")
    return confirmed


async def not_bulk_confirmable(session: AsyncSession, case: ReviewCase) -> list[dict[str, str]]:
    """The undecided criteria that "confirm the remaining" leaves alone, and why."""
    case_rounds = await rounds.of_case(session, case.id)
    made = await of_case(session, case.id)
    asked = judged.in_open_rounds(case_rounds)
    return [{"criterion_id": cid, "reason": "in_open_round" if cid in asked else "changed"}
            for cid, m in judged.materials(case, case_rounds).items()
            if cid not in made and not domain.bulk_confirmable(m, in_open_round=cid in asked)]


async def reconfirm(session: AsyncSession, principal: Principal, case: ReviewCase, criterion_id: str,
                    data: DecisionReconfirm) -> Decision:
    """The decision stands although its criterion changed since: it now judges the newest
    material, with the auditor's note (on the decision, the trail and the sign-off page).
    The auditor becomes a decider of the case (four eyes)."""
    await cases.ensure_holder(session, principal, case, action="decide")
    domain.ensure_state(case.status, DECIDABLE, "decided")
    locked = await _lock_for_decisions(session, principal, case)
    current = (await of_case(session, case.id)).get(criterion_id)
    if current is None:
        raise NotFound(f"{criterion_id} has no decision to confirm")
    mats = await materials(session, locked)
    if not judged.is_changed(current, mats):
        raise NothingChanged("Nothing changed since this decision: there is nothing to confirm.")
    note = data.note.strip()
    if not note:
        raise DecisionInvalid("note: say why the decision stands", field="note", reason="say why the decision stands")
    before = _trail_facts(current)
    result = await session.execute(
        update(Decision).where(Decision.case_id == case.id, Decision.criterion_id == criterion_id,
                               Decision.version == data.version)
        .values(version=Decision.version + 1, note=note, decided_by=principal.sub, decided_at=utcnow(),
                **judged.judged(mats[criterion_id]))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _conflict(current)
    saved = (await of_case(session, case.id))[criterion_id]
    took_part(locked, principal.sub)
    await cases.record(session, locked, trail.Actor.of(principal), "decision.reconfirmed", before=before,
                       after=_trail_facts(saved), reason=note)
    return saved


async def mark_changed(session: AsyncSession, request_id: str) -> list[str]:
    """After a round's answer: the decisions it made "changed since decided" go on the
    trail (which version each judged, which it is now). The flag itself is derived (the
    decision's judged fingerprint no longer matches), so it holds until an auditor looks."""
    row = await session.get(ClarificationRound, request_id)
    if row is None:
        return []
    case = await cases.current(session, row.case_id)
    mats = await materials(session, case)
    made = await of_case(session, case.id)
    answered = {c: made[c] for c in row.answers or {} if c in made}
    flagged = {c.criterion_id: {"judged_version": c.judged_version, "version": c.version}
               for c in judged.changed(answered, mats)}
    if flagged:
        await cases.record(session, case, trail.Actor(row.answered_by or "city", "city"),
                           "decisions.changed_since_decided", after={"round": row.number, "decisions": flagged},
                           reason="new answers or evidence since these decisions")
    return sorted(flagged)


def final_responses(case: ReviewCase, decisions: dict[str, Decision]) -> dict[str, str]:
    """The audited responses: each decision, and for any criterion without one (only in
    auto mode) the response as submitted."""
    return {cid: decisions[cid].response if cid in decisions else answer
            for cid, answer in case.submitted_responses.items()}


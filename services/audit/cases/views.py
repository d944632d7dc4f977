"""The whole case in one read: per criterion its text, the city's response and narrative,
the evidence (submitted and sent in rounds), the answers given in rounds and the decision;
with the rounds, the call notes and the sign-off. The API returns it; the console's
pages are drawn from it."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.calls import service as calls
from services.audit.cases import service as cases
from services.audit.decisions import service as decisions
from services.audit.cases import evidence
from services.audit.cases import queue
from services.audit.rounds import service as rounds
from services.audit.second_review import service as second_review
from services.audit.signoff import service as signoff
from services.audit.calls.service import CallNoteRead
from services.audit.decisions.service import DecisionRead
from services.audit.cases.evidence import EvidenceView
from services.audit.cases.queue import CaseSummary
from services.audit.rounds.service import RoundRead
from services.audit.signoff.service import SignoffRead
from services.audit.config import AuditOptions
from services.audit.models import ReviewCase
from shared.contracts.vocabulary import Answer
from shared.infra.auth import Principal


class RoundAnswerView(BaseModel):
    round: int
    request_id: str
    narrative: str
    evidence: list[EvidenceView] = Field(default_factory=list)


class CriterionView(BaseModel):
    criterion_id: str
    area: str
    text: str
    guidance: str
    submitted: Answer
    narrative: str
    evidence: list[EvidenceView] = Field(default_factory=list)
    round_answers: list[RoundAnswerView] = Field(default_factory=list)
    asked_in_rounds: list[int] = Field(default_factory=list)
    decision: DecisionRead | None = None


class CaseRead(BaseModel):
    case: CaseSummary
    catalog_version: str
    criteria: list[CriterionView]
    rounds: list[RoundRead]
    call_notes: list[CallNoteRead]
    signoff: SignoffRead
    second_review: second_review.SecondReviewRead


async def case_read(session: AsyncSession, principal: Principal, case: ReviewCase, options: AuditOptions,
                    lang: str = "en") -> CaseRead:
    [summary] = await queue.summaries(session, principal, [case], options)
    criteria: list[CriterionView] = []
    all_rounds = await rounds.of_case(session, case.id)
    # The blind second reviewer reads the case without the first auditor's decisions or notes:
    # no decisions, no rounds (their questions name what the first doubted), no call notes.
    # The city's own material stays: its answers in rounds are evidence both reviews judge.
    blind = second_review.is_blind(case, principal)
    if case.received_at:
        sub = cases.frozen(case)
        catalog = decisions.catalog_of(case)
        made = {} if blind else await decisions.of_case(session, case.id)
        mats = await decisions.materials(session, case)
        by_crit = evidence.by_criterion(evidence.of_case(case))
        answers: dict[str, list[RoundAnswerView]] = {}
        asked: dict[str, list[int]] = {}
        for r in all_rounds:
            for cid in r.criteria:
                asked.setdefault(cid, []).append(r.number)
            for cid, a in rounds.read(r).answers.items():
                answers.setdefault(cid, []).append(RoundAnswerView(round=r.number, request_id=r.id,
                                                                   narrative=a.narrative, evidence=a.evidence))
        for crit in catalog.criteria:
            if crit.id not in sub.responses:
                continue
            given = sub.responses[crit.id]
            criteria.append(CriterionView(
                criterion_id=crit.id, area=crit.area, text=catalog.text(crit, lang),
                guidance=catalog.text(crit.evidence, lang), submitted=given.response, narrative=given.narrative,
                evidence=by_crit.get(crit.id, []), round_answers=answers.get(crit.id, []),
                asked_in_rounds=[] if blind else asked.get(crit.id, []),
                decision=decisions.read(made[crit.id], catalog, lang, mats) if crit.id in made else None))
    signed = await signoff.read(session, case)
    if blind:
        signed = signed.model_copy(update={"changed_since_decided": [], "reconfirmed": [], "decisions_hash": ""})
    return CaseRead(case=summary, catalog_version=case.catalog_version, criteria=criteria,
                    rounds=[] if blind else [rounds.read(r) for r in all_rounds],
                    call_notes=[] if blind else await calls.reads(session, case),
                    signoff=signed, second_review=await second_review.read(session, principal, case))

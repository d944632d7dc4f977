"""The programme dashboard's figures, read off the ledger (the events reporting received,
never another service's tables) and computed by `programme_stats`; worded for a language
with the catalogs' names (areas, tiers, audit reasons)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.models import LedgerEntry
from services.reporting.programme_stats import (
    Change,
    Reviewed,
    Scored,
    StageEntered,
    Submitted,
    cities_applied,
    figures,
)
from shared.catalog import texts as catalog_texts
from shared.contracts.events import ReviewCompleted, ScoreComputed, StatusChanged, Subject, SubmissionSubmitted
from shared.infra.logging import get_logger

log = get_logger(__name__)
SUBJECTS = (Subject.SUBMISSION_SUBMITTED, Subject.SCORE_COMPUTED, Subject.REVIEW_COMPLETED, Subject.STATUS_CHANGED)


class CycleApplicantsRead(BaseModel):
    cycle: str
    cities: int
    submissions: int
    scored: int
    certified: int
    withdrawn: int


class TierCountRead(BaseModel):
    cycle: str
    tier: str | None  # None: scored, not certified
    name: str
    count: int


class AreaAverageRead(BaseModel):
    area: str
    name: str
    average_percent: float
    scores: int


class ChangeCountRead(BaseModel):
    criterion: str
    from_response: str
    to_response: str
    count: int


class ReasonCountRead(BaseModel):
    reason_code: str
    name: str
    text: str  # the catalog's standard sentence, in the requested language
    count: int


class StageTimeRead(BaseModel):
    stage: str
    stays: int
    median_seconds: float | None
    p90_seconds: float | None
    now: int


class ProgrammeRead(BaseModel):
    cycle: str | None
    cycles: list[str]
    language: str
    applicants: list[CycleApplicantsRead]
    tiers: list[TierCountRead]
    areas: list[AreaAverageRead]
    changes: list[ChangeCountRead]
    reasons: list[ReasonCountRead]
    stages: list[StageTimeRead]
    as_of: datetime | None  # the latest event counted


def _submitted(payload: dict, at: datetime) -> Submitted:
    p = SubmissionSubmitted.model_validate(payload)
    return Submitted(p.submission_id, p.city_id, p.cycle, at)


async def applied_in(session: AsyncSession, cycle: str) -> int:
    """Cities that applied in the cycle, read off the ledger as the dashboard reads them
    (the report prints this count; `programme_stats.cities_applied` defines it)."""
    rows = (await session.execute(select(LedgerEntry.payload, LedgerEntry.occurred_at)
                                  .where(LedgerEntry.subject == Subject.SUBMISSION_SUBMITTED))).all()
    submitted = []
    for payload, at in rows:
        try:
            submitted.append(_submitted(payload, at))
        except ValidationError:  # skipped by the dashboard too
            continue
    return cities_applied(submitted, cycle)


async def programme(session: AsyncSession, *, cycle: str | None = None, lang: str = "en") -> ProgrammeRead:
    submitted, scored, reviewed, entered = [], [], [], []
    as_of = None
    rows = (await session.execute(select(LedgerEntry.subject, LedgerEntry.submission_id, LedgerEntry.occurred_at,
                                         LedgerEntry.payload)
                                  .where(LedgerEntry.subject.in_(SUBJECTS))
                                  .order_by(LedgerEntry.occurred_at))).all()
    for subject, submission_id, at, payload in rows:
        as_of = at
        try:
            if subject == Subject.SUBMISSION_SUBMITTED:
                submitted.append(_submitted(payload, at))
            elif subject == Subject.SCORE_COMPUTED:
                s = ScoreComputed.model_validate(payload)
                scored.append(Scored(s.submission_id, s.tier, s.percent, dict(s.area_percent), s.computed_at or at))
            elif subject == Subject.REVIEW_COMPLETED:
                r = ReviewCompleted.model_validate(payload)
                reviewed.append(Reviewed(r.submission_id, tuple(
                    Change(c.criterion, str(c.from_response), str(c.to_response), c.reason_code) for c in r.changes),
                    at))
            elif submission_id:
                entered.append(StageEntered(submission_id, StatusChanged.model_validate(payload).status, at))
        except ValidationError:  # an event of an older shape: the ledger keeps it, figures skip it
            log.warning("programme.event_skipped", subject=subject, submission_id=submission_id)
    f = figures(submitted=submitted, scored=scored, reviewed=reviewed, entered=entered, cycle=cycle,
                area_order=catalog_texts.area_ids())
    tier_ids = catalog_texts.tier_ids()
    tiers = []
    for c, counts in f.tiers.items():
        for tier in [*reversed(tier_ids), *sorted(t for t in counts if t and t not in tier_ids), None]:
            tiers.append(TierCountRead(cycle=c, tier=tier, count=counts.get(tier, 0),
                                       name=catalog_texts.tier_name(tier, lang) if tier else ""))
    reasons = []
    for code, count in f.reasons:
        name, text = catalog_texts.reason(code, lang)
        reasons.append(ReasonCountRead(reason_code=code, name=name, text=text, count=count))
    return ProgrammeRead(
        cycle=cycle, cycles=f.cycles, language=lang, as_of=as_of,
        applicants=[CycleApplicantsRead(**vars(a)) for a in f.applicants], tiers=tiers,
        areas=[AreaAverageRead(area=a.area, name=catalog_texts.area_name(a.area, lang), average_percent=a.average,
                               scores=a.scores) for a in f.areas],
        changes=[ChangeCountRead(**vars(c)) for c in f.changes], reasons=reasons,
        stages=[StageTimeRead(**vars(s)) for s in f.stages])

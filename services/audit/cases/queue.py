"""The review queue: cases ordered by due date, then age; filters by cycle, region,
population band, state, status and holder. For an auditor each case says whether they
may take it and, if a declared conflict stops them, which one."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import case as when, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import directory, domain
from services.audit.conflicts import service as conflicts
from services.audit.config import AuditOptions
from services.audit.domain import CLOSED, HOLDABLE, CaseState
from services.audit.models import ClarificationRound, Decision, ReviewCase, Signoff
from shared.infra.auth import Principal, Role
from shared.infra.orm import utcnow


class QueueFilter(BaseModel):
    cycle: str | None = Field(default=None, max_length=20)
    region: str | None = Field(default=None, max_length=40)
    population_band: str | None = Field(default=None, max_length=20)
    state: str | None = Field(default=None, max_length=100,
                              description="state or province: its ISO 3166-2 code, e.g. US-IL or CA-ON")
    status: list[CaseState] = Field(default_factory=list, description="default: every open state")
    assignee: str | None = Field(default=None, max_length=64,
                                 description="`me`, `none` (nobody holds it) or an auditor's id")
    limit: int = Field(default=200, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10**9)


class Person(BaseModel):
    id: str
    name: str


class CaseSummary(BaseModel):
    case_id: str
    submission_id: str
    city_id: str | None
    city_name: str
    state: str
    country: str
    region: str | None
    population_band: str | None
    cycle: str
    status: CaseState
    holder: Person | None = None
    reviewer: Person | None = None
    opened_at: datetime
    due_at: datetime | None
    age_days: int
    due_soon: bool
    overdue: bool
    received: bool
    decided: int
    changed: int
    total: int
    rounds: int
    # The second auditor sent it back with comments, and it is under review again.
    returned: bool = False
    # For the auditor asking: may they claim it, and if a conflict stops them, which.
    can_claim: bool = False
    conflict: str | None = Field(default=None, description="the declared conflict that stops the asking auditor")


async def summaries(session: AsyncSession, principal: Principal, rows: list[ReviewCase],
                    options: AuditOptions) -> list[CaseSummary]:
    ids = [c.id for c in rows]
    counts: dict[str, tuple[int, int]] = {}
    round_counts: dict[str, int] = {}
    last_signoff: dict[str, str] = {}
    if ids:
        q = select(Decision.case_id, func.count(), func.sum(when((Decision.response != Decision.submitted, 1), else_=0))) \
            .where(Decision.case_id.in_(ids)).group_by(Decision.case_id)
        counts = {cid: (n, int(changed or 0)) for cid, n, changed in (await session.execute(q)).all()}
        q = select(ClarificationRound.case_id, func.count()).where(ClarificationRound.case_id.in_(ids)) \
            .group_by(ClarificationRound.case_id)
        round_counts = dict((await session.execute(q)).all())
        q = select(Signoff.case_id, Signoff.action).where(Signoff.case_id.in_(ids)).order_by(Signoff.at)
        last_signoff = dict((await session.execute(q)).all())  # the latest action per case wins
    names = await directory.names(session, {c.holder_id for c in rows} | {c.reviewer_id for c in rows})
    mine = await conflicts.rules(session, principal.sub) if principal.role == Role.AUDITOR else []
    now = utcnow()
    out = []
    for c in rows:
        soon, overdue = domain.sla_flags(c.due_at, now, options.remind_before) if c.due_at and \
            c.status not in CLOSED else (False, False)
        found = domain.conflict_with(mine, conflicts.place_of(c)) if mine else None
        decided, changed = counts.get(c.id, (0, 0))
        if c.double_review and c.second_reviewer_id == principal.sub and c.first_review is None:
            changed = 0  # the blind second reviewer does not learn how many responses the first changed
        out.append(CaseSummary(
            case_id=c.id, submission_id=c.submission_id, city_id=c.city_id, city_name=c.city_name, state=c.state,
            country=c.country, region=c.region, population_band=c.population_band, cycle=c.cycle,
            status=CaseState(c.status), holder=Person(id=c.holder_id, name=names[c.holder_id]) if c.holder_id else None,
            reviewer=Person(id=c.reviewer_id, name=names[c.reviewer_id]) if c.reviewer_id else None,
            opened_at=c.opened_at, due_at=c.due_at, age_days=max((now - c.opened_at).days, 0), due_soon=soon,
            overdue=overdue, received=c.received_at is not None, decided=decided, changed=changed,
            total=len(c.submitted_responses or {}), rounds=round_counts.get(c.id, 0),
            returned=last_signoff.get(c.id) == "returned" and c.status == CaseState.IN_REVIEW,
            can_claim=principal.role == Role.AUDITOR and not c.holder_id and c.status in HOLDABLE and found is None,
            conflict=found.key if found else None))
    return out


async def cases(session: AsyncSession, principal: Principal, f: QueueFilter) -> list[ReviewCase]:
    q = select(ReviewCase)
    states = [s.value for s in f.status] or [s.value for s in domain.OPEN_STATES]
    q = q.where(ReviewCase.status.in_(states))
    if f.cycle:
        q = q.where(ReviewCase.cycle == f.cycle)
    if f.region:
        q = q.where(ReviewCase.region == f.region)
    if f.population_band:
        q = q.where(ReviewCase.population_band == f.population_band)
    if f.state:
        q = q.where(func.upper(ReviewCase.state) == f.state.strip().upper())  # codes; a legacy value as itself
    if f.assignee == "me":
        q = q.where(ReviewCase.holder_id == principal.sub)
    elif f.assignee == "none":
        q = q.where(ReviewCase.holder_id.is_(None))
    elif f.assignee:
        q = q.where(ReviewCase.holder_id == f.assignee)
    # Due first, then the oldest; a case without a due date (never: opening sets one) last.
    q = q.order_by(ReviewCase.due_at.is_(None), ReviewCase.due_at, ReviewCase.opened_at, ReviewCase.id)
    return list((await session.scalars(q.offset(f.offset).limit(f.limit))).all())


async def facets(session: AsyncSession) -> dict[str, list[str]]:
    """The values the filters can take (cycles, regions, bands, states of the cases): one
    ISO 3166-2 code per state or province, however a row spelled it."""
    out = {}
    for name, column in (("cycle", ReviewCase.cycle), ("region", ReviewCase.region),
                         ("population_band", ReviewCase.population_band)):
        rows = await session.scalars(select(column).distinct().where(column.is_not(None), column != ""))
        out[name] = sorted(rows.all())
    places = await session.execute(select(ReviewCase.country, ReviewCase.state).distinct()
                                   .where(ReviewCase.state != ""))
    out["state"] = sorted({domain.state_code(country, state) for country, state in places.all()})
    return out

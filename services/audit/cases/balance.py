"""Fair distribution of work: each auditor's open cases and nearest due date, and
automatic assignment of chosen cases by workload (the auditor holding the fewest open
cases) or at random (reproducible from a seed), never to an auditor with a conflict."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.auth import Principal
from shared.infra.db import Database

from services.audit import directory, domain
from services.audit.cases import service as cases
from services.audit.conflicts import service as conflicts
from services.audit.domain import Conflict as ConflictRule
from services.audit.errors import DomainError, NoEligibleAuditor
from services.audit.models import ReviewCase


class Strategy(StrEnum):
    """How automatic assignment picks the auditor of each case."""

    WORKLOAD = "workload"  # the fewest open cases (ties: by name)
    RANDOM = "random"  # any eligible auditor, from a seeded generator (a calibration sample)


class AutoAssignCreate(BaseModel):
    submission_ids: list[str] = Field(min_length=1, max_length=200, description="cases (by submission) to assign")
    strategy: Strategy = Strategy.WORKLOAD
    seed: int | None = Field(default=None, description="for `random`: the same seed gives the same assignment")


@dataclass
class Load:
    """One auditor's share of the open work."""

    auditor_id: str
    name: str
    open_cases: int
    next_due: datetime | None


class LoadRead(BaseModel):
    auditor_id: str
    name: str
    open_cases: int
    next_due: datetime | None


async def loads(session: AsyncSession) -> list[Load]:
    """Every auditor with the open cases they hold and the nearest due date among them."""
    rows = await session.execute(
        select(ReviewCase.holder_id, func.count(), func.min(ReviewCase.due_at))
        .where(ReviewCase.status.in_([s.value for s in domain.OPEN_STATES]), ReviewCase.holder_id.is_not(None))
        .group_by(ReviewCase.holder_id))
    held = {holder: (n, due) for holder, n, due in rows.all()}
    return [Load(a.user_id, a.name or a.email or a.user_id, *held.get(a.user_id, (0, None)))
            for a in await directory.auditors(session)]


def pick(candidates: list[Load], rng: random.Random | None = None) -> Load | None:
    """The auditor a case goes to: at random when a generator is given, else the least
    loaded (ties by name, then id, so the choice never depends on row order)."""
    if not candidates:
        return None
    if rng is not None:
        return rng.choice(sorted(candidates, key=lambda c: c.auditor_id))
    return min(candidates, key=lambda c: (c.open_cases, c.name, c.auditor_id))


def eligible(all_loads: list[Load], rules: dict[str, list[ConflictRule]], case: ReviewCase) -> list[Load]:
    """The auditors who may take this case: none with a conflict covering its place, nor its
    second reviewer (a double-reviewed case has two different reviewers)."""
    place = conflicts.place_of(case)
    return [load for load in all_loads if domain.conflict_with(rules.get(load.auditor_id, []), place) is None
            and load.auditor_id != case.second_reviewer_id]


def generator(strategy: Strategy, seed: int | None) -> random.Random | None:
    return random.Random(seed) if strategy == Strategy.RANDOM else None


@dataclass
class Outcome:
    """What automatic assignment did with one case."""

    submission_id: str
    city_name: str
    auditor: Load | None = None
    error: DomainError | None = None


async def auto_assign(db: Database, principal: Principal, data: AutoAssignCreate) -> tuple[list[Outcome], list[Load]]:
    """Assign each chosen case in its own transaction (one refused case does not undo the
    others) and count it at once against its auditor, so a batch spreads across the
    auditors; the outcomes and the balance afterwards."""
    async with db.sessionmaker() as session:
        work = await loads(session)
        rules = await conflicts.all_active(session)
    rng = generator(data.strategy, data.seed)
    out = []
    for submission_id in dict.fromkeys(data.submission_ids):
        outcome = Outcome(submission_id, submission_id)
        try:
            async with db.transaction() as session:
                case = await cases.by_submission(session, submission_id)
                outcome.city_name = case.city_name or submission_id
                chosen = pick(eligible(work, rules, case), rng)
                if chosen is None:
                    raise NoEligibleAuditor(f"Every auditor has a conflict with {outcome.city_name}.")
                await cases.assign(session, principal, case, chosen.auditor_id)
        except DomainError as exc:
            outcome.error = exc
        else:
            outcome.auditor = chosen
            chosen.open_cases += 1
        out.append(outcome)
    async with db.sessionmaker() as session:
        return out, await loads(session)

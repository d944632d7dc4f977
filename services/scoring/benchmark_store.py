"""Live benchmark aggregates in scoring's database.

Incremental: each `score.computed` event replaces the city's previous latest score in its
cycle (older events are ignored) and adjusts the cohort sums by the difference, touching
O(criteria) rows whatever the number of cities. Rebuild: recompute everything from the
`scores` table with the pure `BenchmarkBook.rebuild`. Both produce identical rows.

These sums are never shown: a city whose latest score is not yet in a release is
`pending`, and `benchmark_releases` publishes from them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import ScoreComputed
from shared.infra.orm import dialect_insert
from shared.scoring.benchmarks import ALL, BenchmarkBook, CityScore, Cohort
from services.scoring.models import CityLatest, CityReleased, CohortArea, CohortCriterion, CohortTotal, Score


class RebuildError(RuntimeError):
    """The stored scores cannot be rebuilt into sums consistent with what was published."""


def summary(row: CityLatest | CityReleased) -> CityScore:
    return CityScore(city_id=row.city_id, cycle=row.cycle, region=row.region,
                     population_band=row.population_band, percent=row.percent,
                     area_percent=dict(row.area_percent), met=frozenset(row.met))


def _deltas(contributions: list[tuple[CityScore, int]]) -> tuple[Counter, Counter, Counter]:
    """Net row changes for (old, -1) and (new, +1): most of a replacement cancels out."""
    totals: Counter = Counter()
    areas: Counter = Counter()
    crits: Counter = Counter()
    for city, sign in contributions:
        for scope in city.scopes():
            totals[(city.cycle, scope, "count")] += sign
            totals[(city.cycle, scope, "percent_sum")] += sign * city.percent
            for area, pct in city.area_percent.items():
                areas[(city.cycle, scope, area, "percent_sum")] += sign * pct
                areas[(city.cycle, scope, area, "count")] += sign
            for cid in city.met:
                crits[(city.cycle, scope, cid)] += sign
    return totals, areas, crits


def _upsert(session: AsyncSession, model, keys: list[str], rows: list[dict]):
    """One INSERT .. ON CONFLICT DO UPDATE adding the deltas (SQLite and PostgreSQL)."""
    stmt = dialect_insert(session)(model)
    values = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c: getattr(model, c) + getattr(stmt.excluded, c) for c in values},
    )
    return session.execute(stmt, rows)


async def _apply(session: AsyncSession, contributions: list[tuple[CityScore, int]]) -> None:
    totals, areas, crits = _deltas(contributions)
    by_scope: dict[tuple, dict] = {}
    for (cycle, scope, col), d in totals.items():
        by_scope.setdefault((cycle, scope), {"cycle": cycle, "scope": scope, "count": 0, "percent_sum": 0})[col] = d
    rows = [r for r in by_scope.values() if r["count"] or r["percent_sum"]]
    if rows:
        await _upsert(session, CohortTotal, ["cycle", "scope"], rows)
    by_area: dict[tuple, dict] = {}
    for (cycle, scope, area, col), d in areas.items():
        by_area.setdefault((cycle, scope, area),
                           {"cycle": cycle, "scope": scope, "area": area, "percent_sum": 0, "count": 0})[col] = d
    rows = [r for r in by_area.values() if r["count"] or r["percent_sum"]]
    if rows:
        await _upsert(session, CohortArea, ["cycle", "scope", "area"], rows)
    rows = [{"cycle": c, "scope": sc, "criterion": cid, "met_count": d} for (c, sc, cid), d in crits.items() if d]
    if rows:
        await _upsert(session, CohortCriterion, ["cycle", "scope", "criterion"], rows)
    # Empty aggregates are removed, so an incremental book equals a rebuilt one.
    cycles = {city.cycle for city, _ in contributions}
    await session.execute(delete(CohortTotal).where(CohortTotal.cycle.in_(cycles), CohortTotal.count == 0))
    await session.execute(delete(CohortArea).where(CohortArea.cycle.in_(cycles), CohortArea.count == 0))
    await session.execute(delete(CohortCriterion).where(CohortCriterion.cycle.in_(cycles),
                                                        CohortCriterion.met_count == 0))


async def apply_score(session: AsyncSession, score: ScoreComputed, computed_at: datetime) -> bool:
    """Make this score the city's latest in its cycle unless a newer one is already counted."""
    if not score.population_band:
        return False  # a city without a population band cannot be placed in any cohort
    new = CityScore(city_id=score.city_id, cycle=score.cycle, region=score.region,
                    population_band=score.population_band, percent=score.percent,
                    area_percent=score.area_percent, met=frozenset(score.met_criteria))
    latest = await session.get(CityLatest, (score.city_id, score.cycle), with_for_update=True)
    if latest is not None:
        if (latest.computed_at, latest.submission_id) >= (computed_at, score.submission_id):
            return False
        contributions = [(summary(latest), -1), (new, +1)]
    else:
        contributions = [(new, +1)]
        latest = CityLatest(city_id=score.city_id, cycle=score.cycle)
        session.add(latest)
    latest.submission_id, latest.computed_at = score.submission_id, computed_at
    latest.region, latest.population_band, latest.percent = new.region, new.population_band, new.percent
    latest.area_percent, latest.met = dict(new.area_percent), sorted(new.met)
    latest.pending = True
    await _apply(session, contributions)
    return True


async def rebuild(session: AsyncSession) -> int:
    """Recompute every live aggregate from the stored scores (latest per city and cycle).

    Releases are what was published and stay as they are; a city whose rebuilt latest score
    is not the one its cycle's last release counts is pending, and enters a release by the
    usual rule (`benchmark_releases.cut_all_due`)."""
    latest: dict[tuple[str, str], Score] = {}
    for row in (await session.scalars(select(Score))).all():
        if not row.population_band:
            continue
        key = (row.city_id, row.cycle)
        if key not in latest or (row.computed_at, row.submission_id) > (latest[key].computed_at,
                                                                        latest[key].submission_id):
            latest[key] = row
    released = {(r.city_id, r.cycle): r.submission_id for r in (await session.scalars(select(CityReleased))).all()}
    lost = set(released) - set(latest)
    if lost:
        # Scores are never deleted; publishing without these cities would drop them uncounted.
        raise RebuildError(f"{len(lost)} released cities have no stored score any more, e.g. {min(lost)}")
    for model in (CityLatest, CohortTotal, CohortArea, CohortCriterion):
        await session.execute(delete(model))
    summaries = []
    for row in latest.values():
        city = CityScore(city_id=row.city_id, cycle=row.cycle, region=row.region,
                         population_band=row.population_band, percent=row.percent,
                         area_percent={a["id"]: a["percent"] for a in row.result["areas"]},
                         met=frozenset(c["id"] for c in row.result["criteria"] if c["met"]))
        summaries.append(city)
        session.add(CityLatest(city_id=city.city_id, cycle=city.cycle, submission_id=row.submission_id,
                               computed_at=row.computed_at, region=city.region,
                               population_band=city.population_band, percent=city.percent,
                               area_percent=dict(city.area_percent), met=sorted(city.met),
                               pending=released.get((city.city_id, city.cycle)) != row.submission_id))
    book = BenchmarkBook.rebuild(summaries)
    for (cycle, scope), cohort in book.items().items():
        session.add(CohortTotal(cycle=cycle, scope=scope, count=cohort.count, percent_sum=cohort.percent_sum))
        for area, count in cohort.area_count.items():
            session.add(CohortArea(cycle=cycle, scope=scope, area=area, percent_sum=cohort.area_sum[area],
                                   count=count))
        for cid, n in cohort.met_count.items():
            session.add(CohortCriterion(cycle=cycle, scope=scope, criterion=cid, met_count=n))
    await session.flush()
    return len(summaries)


async def load_cohort(session: AsyncSession, cycle: str, scope: str = ALL) -> Cohort:
    total = await session.get(CohortTotal, (cycle, scope))
    if total is None:
        return Cohort()
    areas = (await session.scalars(select(CohortArea).where(CohortArea.cycle == cycle, CohortArea.scope == scope))).all()
    crits = (await session.scalars(
        select(CohortCriterion).where(CohortCriterion.cycle == cycle, CohortCriterion.scope == scope))).all()
    return Cohort(count=total.count, percent_sum=total.percent_sum,
                  area_sum=Counter({a.area: a.percent_sum for a in areas}),
                  area_count=Counter({a.area: a.count for a in areas}),
                  met_count=Counter({c.criterion: c.met_count for c in crits}))


async def load_book(session: AsyncSession, cycle: str) -> BenchmarkBook:
    """Every live cohort of a cycle, in three queries."""
    totals = await session.scalars(select(CohortTotal).where(CohortTotal.cycle == cycle))
    cohorts = {(cycle, t.scope): Cohort(count=t.count, percent_sum=t.percent_sum) for t in totals}
    for a in await session.scalars(select(CohortArea).where(CohortArea.cycle == cycle)):
        cohorts[(cycle, a.scope)].area_sum[a.area] = a.percent_sum
        cohorts[(cycle, a.scope)].area_count[a.area] = a.count
    for c in await session.scalars(select(CohortCriterion).where(CohortCriterion.cycle == cycle)):
        cohorts[(cycle, c.scope)].met_count[c.criterion] = c.met_count
    return BenchmarkBook.from_cohorts(cohorts)


async def scopes(session: AsyncSession, cycle: str) -> list[str]:
    return list((await session.scalars(
        select(CohortTotal.scope).where(CohortTotal.cycle == cycle).order_by(CohortTotal.scope))).all())

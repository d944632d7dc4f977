"""Benchmark releases: the only benchmark figures scoring shows.

The live sums (`benchmark_store`) follow every score; a release is cut when rule 3 of
`shared.scoring.benchmarks` lets a batch of pending cities through, and stores the
figures exactly as `publish` returned them. The API, the simulator and reports read the
latest release, so a figure changes only from one release to the next, and a code or
settings change never alters what was already published.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.orm import utcnow
from shared.scoring.benchmarks import (
    ALL,
    MIN_COHORT,
    BenchmarkBook,
    PublishedBenchmarks,
    publish,
    release_batch,
)
from services.scoring import benchmark_store
from services.scoring.benchmark_store import summary
from services.scoring.models import CityLatest, CityReleased, CohortTotal, Release


async def latest(session: AsyncSession, cycle: str) -> Release | None:
    return await session.scalar(
        select(Release).where(Release.cycle == cycle).order_by(Release.release.desc()).limit(1))


async def published(session: AsyncSession, cycle: str) -> tuple[PublishedBenchmarks, Release | None]:
    """The latest release's figures; before the first, everything withheld."""
    release = await latest(session, cycle)
    if release is None:
        return publish(BenchmarkBook(), cycle), None
    return PublishedBenchmarks.model_validate(release.figures), release


async def cut_if_due(session: AsyncSession, cycle: str, min_cohort: int = MIN_COHORT) -> Release | None:
    """Cut the cycle's next release if the pending cities allow one (rule 3)."""
    # Every live update of the cycle writes this row, so holding it keeps the sums, the
    # pending flags and the release number still until commit (PostgreSQL; SQLite has one writer).
    await session.execute(select(CohortTotal.count)
                          .where(CohortTotal.cycle == cycle, CohortTotal.scope == ALL).with_for_update())
    last = await latest(session, cycle)
    previous = PublishedBenchmarks.model_validate(last.figures) if last else None
    rows = (await session.execute(
        select(CityLatest, CityReleased)
        .outerjoin(CityReleased, (CityReleased.city_id == CityLatest.city_id)
                   & (CityReleased.cycle == CityLatest.cycle))
        .where(CityLatest.cycle == cycle, CityLatest.pending))).all()
    batch = release_batch([(summary(was) if was else None, summary(now)) for now, was in rows],
                          previous, min_cohort)
    if not batch:
        return None
    book = await benchmark_store.load_book(session, cycle)
    for now, was in rows:
        if now.city_id not in batch:  # still waiting: the release counts its released score
            book.remove(summary(now))
            if was is not None:
                book.add(summary(was))
    release = Release(cycle=cycle, release=last.release + 1 if last else 1, published_at=utcnow(),
                      changed=len(batch),
                      figures=publish(book, cycle, min_cohort, previous).model_dump(mode="json"))
    session.add(release)
    for now, was in rows:
        if now.city_id in batch:
            was = was or CityReleased(city_id=now.city_id, cycle=cycle)
            was.release, was.submission_id = release.release, now.submission_id
            was.region, was.population_band, was.percent = now.region, now.population_band, now.percent
            was.area_percent, was.met = dict(now.area_percent), list(now.met)
            session.add(was)
            now.pending = False
    await session.flush()
    return release


async def cut_all_due(session: AsyncSession, min_cohort: int = MIN_COHORT) -> list[Release]:
    """Every cycle's next release that is due (after a rebuild)."""
    cycles = (await session.scalars(select(CityLatest.cycle).where(CityLatest.pending).distinct())).all()
    return [r for cycle in sorted(cycles) if (r := await cut_if_due(session, cycle, min_cohort))]

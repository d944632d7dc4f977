"""Benchmark releases in scoring's database, on both databases: each stored release is
`publish` of exactly the scores it took, the releases pass the reader's subtraction tests,
and `rebuild` leaves what was published alone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from benchmark_reader import (
    CYCLE,
    assert_no_subtraction_reveals,
    assert_releases_never_differ_by_fewer_than_five,
    city,
    score_stream,
)
from sqlalchemy import select

from devtools.harness import migrated_database
from services.scoring import benchmark_releases, benchmark_store
from shared.infra import migrations
from services.scoring.models import CityLatest, CityReleased, Release, Score
from shared.contracts.events import ScoreComputed
from shared.scoring.benchmarks import BenchmarkBook, CityScore, PublishedBenchmarks, publish

BASE = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def db(backend, tmp_path):
    async with migrated_database("scoring", backend, tmp_path) as database:
        yield database


def event(score: CityScore, submission_id: str) -> ScoreComputed:
    return ScoreComputed(submission_id=submission_id, city_id=score.city_id, cycle=score.cycle,
                         catalog_version="test", region=score.region, population_band=score.population_band,
                         met=len(score.met), total=10, percent=score.percent, area_percent=score.area_percent,
                         met_criteria=sorted(score.met))


def row(score: CityScore, submission_id: str, at: datetime) -> Score:
    """The stored score behind an event, as much of it as a rebuild reads."""
    return Score(submission_id=submission_id, city_id=score.city_id, cycle=score.cycle, catalog_version="test",
                 region=score.region, population_band=score.population_band, met=len(score.met), total=10,
                 percent=score.percent, tier=None, computed_at=at,
                 result={"areas": [{"id": a, "percent": p} for a, p in score.area_percent.items()],
                         "criteria": [{"id": c, "met": True} for c in sorted(score.met)]})


async def released(session) -> dict[str, CityScore]:
    rows = await session.scalars(select(CityReleased).where(CityReleased.cycle == CYCLE))
    return {r.city_id: benchmark_store.summary(r) for r in rows}


async def test_stored_releases_follow_the_rule(db):
    releases: list[tuple[dict[str, CityScore], PublishedBenchmarks]] = []
    stream = score_stream(random.Random(42), cities=40, events=150)
    for k, (i, band, region, seed) in enumerate(stream):
        score = city(i, band, region, random.Random(seed), version=k)
        async with db.transaction() as session:
            session.add(row(score, f"s{k}", BASE + timedelta(seconds=k)))
            assert await benchmark_store.apply_score(session, event(score, f"s{k}"), BASE + timedelta(seconds=k))
            release = await benchmark_releases.cut_if_due(session, CYCLE)
            if release is None:
                continue
            state = await released(session)
        previous = releases[-1][1] if releases else None
        figures = PublishedBenchmarks.model_validate(release.figures)
        # The live sums minus the waiting cities are exactly the released scores' sums.
        assert figures == publish(BenchmarkBook.rebuild(state.values()), CYCLE, previous=previous)
        assert release.release == len(releases) + 1
        releases.append((state, figures))
    assert len(releases) >= 5
    assert_releases_never_differ_by_fewer_than_five(releases)
    for state, figures in releases:
        assert_no_subtraction_reveals(list(state.values()), figures)

    async with db.sessionmaker() as session:
        published, latest = await benchmark_releases.published(session, CYCLE)
        assert (published, latest.release) == (releases[-1][1], len(releases))
        before = (await session.execute(select(CityLatest.city_id, CityLatest.pending))).all()
        assert any(pending for _, pending in before)  # so releases were cut with cities waiting
        stored = [(r.release, r.figures) for r in await session.scalars(select(Release).order_by(Release.release))]
    # A rebuild recomputes the live sums only: what was published stays, the same cities wait.
    async with db.transaction() as session:
        assert await benchmark_store.rebuild(session) == len({i for i, *_ in stream})
        assert await benchmark_releases.cut_all_due(session) == []
    async with db.sessionmaker() as session:
        assert sorted((await session.execute(select(CityLatest.city_id, CityLatest.pending))).all()) == sorted(before)
        assert [(r.release, r.figures)
                for r in await session.scalars(select(Release).order_by(Release.release))] == stored


async def test_first_release_waits_for_five_cities_then_takes_them_all(db):
    rng = random.Random(3)
    for k in range(6):
        # Different bands and regions: the first release has nothing to compare with.
        score = city(k, ["30K-100K", "500K+"][k % 2], ["West", "Caribbean", None][k % 3], rng)
        async with db.transaction() as session:
            await benchmark_store.apply_score(session, event(score, f"s{k}"), BASE + timedelta(seconds=k))
            release = await benchmark_releases.cut_if_due(session, CYCLE)
        assert (release is None) == (k < 4)
        if release is not None:
            break
    assert release.release == 1 and release.changed == 5
    figures = PublishedBenchmarks.model_validate(release.figures)
    assert figures.all.applicants == 5 and all(s.withheld for s in figures.regions.values())


async def test_a_stale_score_does_not_count_as_a_change(db):
    """An older score arriving late changes nothing, so it cannot make a release due."""
    rng = random.Random(4)
    async with db.transaction() as session:
        for k in range(5):
            await benchmark_store.apply_score(session, event(city(k, "30K-100K", "West", rng), f"new{k}"),
                                              BASE + timedelta(days=1))
        assert (await benchmark_releases.cut_if_due(session, CYCLE)).release == 1
        for k in range(5):
            assert not await benchmark_store.apply_score(session, event(city(k, "30K-100K", "West", rng), f"old{k}"),
                                                         BASE)
        assert await benchmark_releases.cut_if_due(session, CYCLE) is None


async def test_cities_counted_before_releases_existed_are_published_by_the_next_cut(db):
    """The migration that adds releases makes every city already counted pending."""
    rng = random.Random(6)
    async with db.transaction() as session:
        for k in range(6):
            await benchmark_store.apply_score(session, event(city(k, "500K+", "Canada", rng), f"s{k}"), BASE)

    def downgrade(connection) -> None:
        cfg = migrations.alembic_config("scoring")
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "78cb1e9ad762")  # the schema before releases, rows kept

    async with db.engine.begin() as conn:
        await conn.run_sync(downgrade)
    await migrations.upgrade(db, "scoring")
    async with db.transaction() as session:
        assert (await benchmark_releases.cut_all_due(session))[0].changed == 6
        published, release = await benchmark_releases.published(session, CYCLE)
    assert release.release == 1 and published.regions["Canada"].applicants == 6

"""Scoring's database side: the score activity's use case, incremental benchmarks that
agree with a rebuild from scratch on a generated cohort of 500 cities, on both databases.
Releases (what is shown of the sums) are tested in test_benchmark_releases.py."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.scoring import benchmark_releases, benchmark_store
from shared.scoring.benchmarks import ALL, BenchmarkBook, CityScore, band_scope, region_scope
from shared.scoring.engine import score
from services.scoring.models import CohortCriterion, CohortTotal, Score
from services.scoring.service import store_score
from shared.catalog import load_catalog
from shared.catalog.geography import POPULATION_BANDS, REGIONS
from shared.contracts.events import ScoreComputed
from certification.activities import ScoreRequest
from shared.infra.tables import outbox
from shared.infra import migrations
from shared.infra.db import Database
from devtools.harness import migrated_database


@pytest.fixture
async def db(backend, tmp_path):
    async with migrated_database("scoring", backend, tmp_path) as database:
        yield database


def random_responses(rng: random.Random, maturity: float) -> dict[str, str]:
    catalog = load_catalog("wwc-2019")
    return {c.id: "YES" if rng.random() < maturity else rng.choice(["NO", "IN_PROGRESS"]) for c in catalog.criteria}


async def test_store_score_is_idempotent_and_publishes_once(db):
    req = ScoreRequest(submission_id="s1", correlation_id="s1", city_id="c1", cycle="2026",
                       catalog_version="wwc-2019", audited_responses=random_responses(random.Random(1), 0.7),
                       region="West", population_band="500K+")
    async with db.transaction() as session:
        first, _ = await store_score(session, req)
    async with db.transaction() as session:
        again, _ = await store_score(session, req)  # a retried activity
    assert (first.met, first.tier) == (again.met, again.tier)
    expected = score(load_catalog("wwc-2019"), req.audited_responses)
    assert (first.met, first.percent, first.tier) == (expected.met, expected.percent, expected.tier)
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(outbox)) == 1
        assert await session.scalar(select(func.count()).select_from(Score)) == 1


async def test_incremental_benchmarks_equal_rebuild_on_500_cities(db):
    """500 cities, several of them re-scored (a later submission replaces the earlier one),
    events applied in a shuffled order including stale ones: the incremental aggregates
    must equal both a rebuild from the scores table and the pure BenchmarkBook."""
    rng = random.Random(500)
    catalog = load_catalog("wwc-2019")
    base = datetime(2026, 6, 1, tzinfo=UTC)
    events: list[tuple[ScoreComputed, datetime]] = []
    async with db.transaction() as session:
        for i in range(500):
            city = f"city-{i:03d}"
            band, region = rng.choice(POPULATION_BANDS), rng.choice(REGIONS)
            for attempt in range(1 + (rng.random() < 0.2)):  # 20% have a second scored submission
                responses = random_responses(rng, rng.uniform(0.05, 0.95))
                result = score(catalog, responses)
                at = base + timedelta(days=attempt * 10, seconds=i)
                sid = f"{city}-{attempt}"
                session.add(Score(submission_id=sid, city_id=city, cycle="2026", catalog_version=catalog.version,
                                  region=region, population_band=band, met=result.met, total=result.total,
                                  percent=result.percent, tier=result.tier, result=result.model_dump(mode="json"),
                                  computed_at=at))
                events.append((ScoreComputed(
                    submission_id=sid, city_id=city, cycle="2026", catalog_version=catalog.version, region=region,
                    population_band=band, met=result.met, total=result.total, percent=result.percent, tier=result.tier,
                    area_percent={a.id: a.percent for a in result.areas}, met_criteria=result.met_ids,
                    computed_at=at), at))
    rng.shuffle(events)  # out of order: an older score may arrive after the newer one
    for payload, at in events:
        async with db.transaction() as session:
            await benchmark_store.apply_score(session, payload, at)

    async def read_all(session) -> dict:
        out = {}
        for scope in await benchmark_store.scopes(session, "2026"):
            out[scope] = (await benchmark_store.load_cohort(session, "2026", scope)).snapshot().model_dump()
        return out

    async with db.sessionmaker() as session:
        incremental = await read_all(session)
        counts = await session.scalar(select(CohortTotal.count).where(CohortTotal.scope == ALL))
    assert counts == 500

    async with db.transaction() as session:
        assert await benchmark_store.rebuild(session) == 500
    async with db.sessionmaker() as session:
        rebuilt = await read_all(session)
    assert incremental == rebuilt

    latest: dict[str, CityScore] = {}
    for payload, _at in sorted(events, key=lambda e: e[1]):
        latest[payload.city_id] = CityScore(city_id=payload.city_id, cycle="2026", region=payload.region,
                                            population_band=payload.population_band, percent=payload.percent,
                                            area_percent=payload.area_percent, met=frozenset(payload.met_criteria))
    book = BenchmarkBook.rebuild(latest.values())
    for scope, snap in incremental.items():
        assert book.snapshot("2026", scope).model_dump() == snap
    assert set(incremental) == {ALL, *map(band_scope, {c.population_band for c in latest.values()}),
                                *map(region_scope, {c.region for c in latest.values()})}


async def test_small_cohorts_are_withheld(db):
    rng = random.Random(7)
    catalog = load_catalog("wwc-2019")
    async with db.transaction() as session:
        for i in range(4):
            result = score(catalog, random_responses(rng, 0.5))
            await benchmark_store.apply_score(session, ScoreComputed(
                submission_id=f"s{i}", city_id=f"c{i}", cycle="2026", catalog_version="wwc-2019",
                region="Canada", population_band="30K-100K", met=result.met, total=45, percent=result.percent,
                area_percent={a.id: a.percent for a in result.areas}, met_criteria=result.met_ids),
                datetime(2026, 1, 1, tzinfo=UTC))
            assert await benchmark_releases.cut_if_due(session, "2026") is None
    async with db.sessionmaker() as session:
        published, release = await benchmark_releases.published(session, "2026")
        snap = published.all
        assert release is None and snap.withheld and snap.applicants is None and snap.criterion_share is None
        # the live rows exist (so the fifth city will reveal them), only no release shows them
        assert await session.scalar(select(func.count()).select_from(CohortCriterion)) > 0


def test_rebuild_command(tmp_path):
    """`wwc benchmarks rebuild` recomputes the aggregates of the configured database."""
    import asyncio
    import os
    import subprocess
    import sys
    from pathlib import Path

    url = f"sqlite+aiosqlite:///{tmp_path / 'scoring.db'}"

    async def seed() -> None:
        database = Database(url)
        await migrations.upgrade(database, "scoring")
        rng = random.Random(5)
        async with database.transaction() as session:
            for i in range(6):
                result = score(load_catalog("wwc-2019"), random_responses(rng, 0.6))
                session.add(Score(submission_id=f"s{i}", city_id=f"c{i}", cycle="2026", catalog_version="wwc-2019",
                                  region="Canada", population_band="500K+", met=result.met, total=45,
                                  percent=result.percent, tier=result.tier, result=result.model_dump(mode="json"),
                                  computed_at=datetime(2026, 3, 1, tzinfo=UTC)))
        await database.dispose()

    async def snapshot_all():
        database = Database(url)
        async with database.sessionmaker() as session:
            published, _release = await benchmark_releases.published(session, "2026")
        await database.dispose()
        return published.all

    asyncio.run(seed())
    assert asyncio.run(snapshot_all()).withheld  # nothing aggregated yet
    env = {**os.environ, "WWC_SCORING_DB_URL": url}
    out = subprocess.run([sys.executable, "-m", "services.cli", "benchmarks", "rebuild"], capture_output=True,
                         text=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert out.returncode == 0, out.stderr
    assert "from 6 cities" in out.stdout and "cycle 2026: release 1 published" in out.stdout
    assert asyncio.run(snapshot_all()).applicants == 6


async def test_an_area_where_every_city_scores_zero_is_kept(db):
    catalog = load_catalog("wwc-2019")
    eval_ids = {c.id for c in catalog.criteria_in_area("EVAL")}
    async with db.transaction() as session:
        for i in range(5):
            responses = {c.id: ("NO" if c.id in eval_ids else "YES") for c in catalog.criteria}
            result = score(catalog, responses)
            at = datetime(2026, 2, 1, tzinfo=UTC)
            session.add(Score(submission_id=f"z{i}", city_id=f"z{i}", cycle="2026", catalog_version="wwc-2019",
                              region="West", population_band="30K-100K", met=result.met, total=45,
                              percent=result.percent, tier=result.tier, result=result.model_dump(mode="json"),
                              computed_at=at))
            await benchmark_store.apply_score(session, ScoreComputed(
                submission_id=f"z{i}", city_id=f"z{i}", cycle="2026", catalog_version="wwc-2019", region="West",
                population_band="30K-100K", met=result.met, total=45, percent=result.percent,
                area_percent={a.id: a.percent for a in result.areas}, met_criteria=result.met_ids), at)
    async with db.sessionmaker() as session:
        incremental = (await benchmark_store.load_cohort(session, "2026", ALL)).snapshot()
    async with db.transaction() as session:
        await benchmark_store.rebuild(session)
    async with db.sessionmaker() as session:
        rebuilt = (await benchmark_store.load_cohort(session, "2026", ALL)).snapshot()
    assert incremental.area_average["EVAL"] == 0 and incremental.area_average["DG"] == 100
    assert rebuilt == incremental


async def test_a_later_revision_scores_again_once_and_replaces_the_score(db):
    """An appeal overturned a finding: the workflow asks for revision 2, which is computed
    once (a retry gets it back) and published; revision 1 asked again changes nothing."""
    responses = {c.id: "NO" for c in load_catalog("wwc-2019").criteria}
    req = ScoreRequest(submission_id="s2", correlation_id="s2", city_id="c2", cycle="2026",
                       catalog_version="wwc-2019", audited_responses=responses, region="West", population_band="500K+")
    async with db.transaction() as session:
        first, _ = await store_score(session, req)
    revised = req.model_copy(update={"audited_responses": responses | {"DG1": "YES"}, "revision": 2})
    for _ in range(2):
        async with db.transaction() as session:
            second, _ = await store_score(session, revised)
            assert second.met == 1 and second.revision == 2
    async with db.transaction() as session:
        stale, _ = await store_score(session, req)
        assert stale.met == 1
    async with db.sessionmaker() as session:
        sent = (await session.execute(select(func.count()).select_from(outbox).where(
            outbox.c.subject == "wwc.scoring.score.computed"))).scalar()
    assert first.met == 0 and sent == 2


async def test_a_submission_scored_again_after_an_appeal_counts_once_with_its_new_score(db):
    """The benchmarks get both of a submission's score.computed (the first, and the one
    after an appeal overturned a finding, computed later): the city counts once, with its
    new score, in every cohort."""
    catalog = load_catalog("wwc-2019")
    responses = {c.id: "YES" for c in catalog.criteria}
    responses["DG1"] = "NO"  # the audited finding the city appealed
    facts = []
    for version, answers, hour in ((1, responses, 1), (2, {**responses, "DG1": "YES"}, 30)):
        result = score(catalog, answers)
        facts.append(ScoreComputed(
            submission_id="s1", city_id="c1", cycle="2026", catalog_version="wwc-2019", region="West",
            population_band="500K+", met=result.met, total=result.total, percent=result.percent, tier=result.tier,
            area_percent={a.id: a.percent for a in result.areas}, met_criteria=result.met_ids,
            computed_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=hour), version=version))
    async with db.transaction() as session:
        for fact in (*facts, facts[0]):  # the first redelivered late changes nothing
            await benchmark_store.apply_score(session, fact, fact.computed_at)
        for scope in (ALL, band_scope("500K+"), region_scope("West")):
            total = await session.get(CohortTotal, ("2026", scope))
            assert (total.count, total.percent_sum) == (1, facts[1].percent), scope
        met = await session.get(CohortCriterion, ("2026", ALL, "DG1"))
        assert met is not None and met.met_count == 1

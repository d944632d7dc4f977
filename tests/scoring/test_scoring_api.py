"""Scoring's HTTP API on a running scoring service (real NATS, Temporal, database):
catalogs, who may read a score, benchmarks with small cohorts withheld and published in
releases, what-if, simulate."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import func, select

from shared.catalog import load_catalog
from certification.activities import ScoreRequest
from shared.infra.auth import Role
from shared.scoring.engine import score
from services.scoring.models import CityLatest, CityReleased, Score
from services.scoring.service import store_score
from tests.conftest import token
from devtools.harness import Stack
from tests.infra.test_consumer import eventually

CATALOG = load_catalog("wwc-2019")


@pytest.fixture
async def scoring(infra, backend, tmp_path):
    stack = await Stack(infra=infra, backend=backend, tmp=tmp_path, services=("scoring",)).start()
    yield stack
    await stack.stop()


def responses(rng: random.Random, maturity: float) -> dict[str, str]:
    return {c.id: "YES" if rng.random() < maturity else "NO" for c in CATALOG.criteria}


async def score_city(stack, i: int, band: str, region: str, maturity: float, rng) -> ScoreRequest:
    req = ScoreRequest(submission_id=f"s{i}", correlation_id=f"s{i}", city_id=f"city-{i}", cycle="2026",
                       catalog_version="wwc-2019", audited_responses=responses(rng, maturity),
                       region=region, population_band=band)
    rt = stack.runtimes["scoring"]
    async with rt.db.transaction() as session:
        await store_score(session, req)  # what the scoring activity does
    rt.wake_relay()
    return req


def counted(stack, n: int):
    """A predicate: scoring's benchmark consumer has taken n cities' scores (and cut any
    release due, in the same transaction)."""
    async def check():
        async with stack.runtimes["scoring"].db.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(CityLatest)) == n
    return check


async def test_catalog_endpoints(scoring):
    api = scoring.client("scoring")
    listed = (await api.get("/api/v1/catalogs")).json()
    assert {"version": "wwc-2019", "criteria": 45, "languages": ["en", "es", "pt"]} in listed
    full = (await api.get("/api/v1/catalogs/wwc-2019")).json()
    assert len(full["criteria"]) == 45 and set(full["criteria"][0]["text"]) == {"en", "es", "pt"}
    es = (await api.get("/api/v1/catalogs/wwc-2019", params={"lang": "es"})).json()
    assert es["language"] == "es"
    assert es["criteria"][0]["text"] == CATALOG.text(CATALOG.criteria[0], "es") != CATALOG.text(CATALOG.criteria[0], "en")
    assert [a["id"] for a in es["areas"]] == [a.id for a in CATALOG.areas]
    missing = await api.get("/api/v1/catalogs/wwc-1999")
    assert missing.status_code == 404 and "wwc-2019" in missing.json()["detail"]
    bad_lang = await api.get("/api/v1/catalogs/wwc-2019", params={"lang": "fr"})
    assert bad_lang.status_code == 422 and bad_lang.json()["errors"][0]["field"] == "lang"


async def test_a_city_reads_only_its_own_score(scoring):
    rng = random.Random(3)
    req = await score_city(scoring, 1, "100K-250K", "Midwest", 0.7, rng)
    expected = score(CATALOG, req.audited_responses)
    own = await scoring.client("scoring", token(Role.CITY, "city-1")).get("/api/v1/scores/s1")
    assert own.status_code == 200
    body = own.json()
    assert (body["met"], body["percent"], body["tier"]) == (expected.met, expected.percent, expected.tier)
    assert len(body["result"]["criteria"]) == 45 and body["result"]["criteria"][0]["explanation"]
    other = await scoring.client("scoring", token(Role.CITY, "city-2")).get("/api/v1/scores/s1")
    assert other.status_code == 404 and other.headers["content-type"].startswith("application/problem+json")
    for role in (Role.AUDITOR, Role.OPERATOR):
        assert (await scoring.client("scoring", token(role)).get("/api/v1/scores/s1")).status_code == 200
    assert (await scoring.client("scoring").get("/api/v1/scores/s1")).status_code == 401


async def test_benchmarks_follow_score_events_and_withhold_small_cohorts(scoring):
    rng = random.Random(11)
    api = scoring.client("scoring", token(Role.CITY, "c0"))
    for i in range(4):
        await score_city(scoring, i, "100K-250K", "West", 0.5, rng)

    await eventually(counted(scoring, 4))
    body = (await api.get("/api/v1/benchmarks/2026", params={"band": "100K-250K"})).json()
    assert body["all"] == {"withheld": True, "applicants": None, "average_percent": None,
                           "area_average": None, "criterion_share": None}
    assert body["release"] is None  # no release yet

    reqs = [await score_city(scoring, i, "100K-250K", "West", 0.5, rng) for i in range(4, 6)]
    await eventually(counted(scoring, 6))
    body = (await api.get("/api/v1/benchmarks/2026", params={"band": "100K-250K", "region": "West"})).json()
    assert body["release"] == 1 and body["published_at"]
    # The fifth city cut release 1; the sixth waits for four more (one city's arrival would
    # show in the figures' change).
    async with scoring.runtimes["scoring"].db.sessionmaker() as session:
        rows = (await session.scalars(select(Score).join(
            CityReleased, CityReleased.submission_id == Score.submission_id))).all()
    percents = [r.percent for r in rows]
    assert len(rows) == 5
    assert body["all"]["applicants"] == 5 and body["band"]["applicants"] == 5 and body["region"]["applicants"] == 5
    assert body["all"]["average_percent"] == int(sum(percents) / 5 + 0.5)
    met_dg1 = sum(1 for r in rows if any(c["id"] == "DG1" and c["met"] for c in r.result["criteria"]))
    assert body["all"]["criterion_share"].get("DG1", 0) == int(met_dg1 * 100 / 5 + 0.5)
    assert "city-" not in json.dumps(body)  # aggregates only: no city is ever named
    assert len(reqs) == 2

    field = (await api.get("/api/v1/benchmarks/2026/playing-field")).json()
    assert field["regions"]["West"]["applicants"] == 5 and field["regions"]["Midwest"]["withheld"]
    assert field["release"] == 1

    bad = await api.get("/api/v1/benchmarks/2026", params={"band": "tiny"})
    assert bad.status_code == 422 and bad.json()["errors"] == [
        {"field": "band", "reason": "must be one of 30K-100K, 100K-250K, 250K-500K, 500K+"}]


async def test_a_published_figure_moves_only_when_five_cities_have_arrived(scoring):
    """Comparing the figures before and after one city's score would reveal that score: the
    API shows the cycle's latest release, and a release needs five new cities."""
    rng = random.Random(12)
    api = scoring.client("scoring", token(Role.CITY, "c0"))

    async def shown() -> tuple[dict, dict, dict]:
        params = {"band": "30K-100K", "region": "South"}
        body = (await api.get("/api/v1/benchmarks/2026", params=params)).json()
        field = (await api.get("/api/v1/benchmarks/2026/playing-field")).json()
        sim = (await api.post("/api/v1/simulate", json={"responses": {}, "cycle": "2026",
                                                        "population_band": "30K-100K"})).json()
        return body, field, sim

    for i in range(5):
        await score_city(scoring, i, "30K-100K", "South", 0.6, rng)
    await eventually(counted(scoring, 5))
    first = await shown()
    assert first[0]["release"] == 1 and first[0]["band"]["applicants"] == 5
    for i in range(5, 9):
        await score_city(scoring, i, "30K-100K", "South", rng.choice([0.05, 0.95]), rng)
        await eventually(counted(scoring, i + 1))
        assert await shown() == first  # the figures, the release and the simulator's ranking
    await score_city(scoring, 9, "30K-100K", "South", 0.5, rng)
    await eventually(counted(scoring, 10))
    body, field, _sim = await shown()
    async with scoring.runtimes["scoring"].db.sessionmaker() as session:
        percents = (await session.scalars(select(Score.percent))).all()
    assert body["release"] == 2 and body["published_at"] >= first[0]["published_at"]
    assert body["all"]["applicants"] == body["band"]["applicants"] == body["region"]["applicants"] == 10
    assert body["all"]["average_percent"] == int(sum(percents) / 10 + 0.5)
    assert field["release"] == 2 and field["regions"]["South"]["applicants"] == 10


async def test_what_if_and_simulate_store_nothing(scoring):
    api = scoring.client("scoring", token(Role.CITY, "c1"))
    hypothetical = {c.id: "YES" for c in CATALOG.criteria[:20]}
    r = await api.post("/api/v1/what-if", json={"catalog": "wwc-2019", "responses": hypothetical})
    assert r.status_code == 200
    assert r.json()["met"] == score(CATALOG, hypothetical).met

    sim = (await api.post("/api/v1/simulate", json={"catalog": "wwc-2019", "responses": hypothetical,
                                                    "cycle": "2026", "population_band": "30K-100K"})).json()
    assert sim["target_tier"] == "silver" and sim["result"]["tier"] in ("silver", "gold", "platinum")
    applied = {**hypothetical, **{c["id"]: "YES" for c in sim["criteria"]}}
    assert score(CATALOG, applied).tier == sim["result"]["tier"]

    bad = await api.post("/api/v1/what-if", json={"responses": {"XX9": "YES"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "responses.XX9"
    wrong_value = await api.post("/api/v1/what-if", json={"responses": {"DG1": "MAYBE"}})
    assert wrong_value.status_code == 422 and wrong_value.json()["errors"][0]["field"] == "responses.DG1"
    async with scoring.runtimes["scoring"].db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Score)) == 0

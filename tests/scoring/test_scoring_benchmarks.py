from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.scoring.benchmarks import (
    ALL,
    BenchmarkBook,
    CityScore,
    Cohort,
    band_scope,
    region_scope,
)
from shared.scoring.engine import score
from shared.catalog.geography import POPULATION_BANDS, REGIONS


def _city(rng: random.Random, catalog, city_id: str, cycle: str, region=None, band=None
          ) -> CityScore:
    responses = {cid: "YES" for cid in catalog.criterion_ids if rng.random() < rng.random()}
    return CityScore.from_result(
        city_id=city_id, cycle=cycle,
        region=region if region is not None else rng.choice([*REGIONS, None]),
        population_band=band or rng.choice(POPULATION_BANDS),
        result=score(catalog, responses))


def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_incremental_equals_rebuild_500_cities(wwc):
    rng = random.Random(2019)
    # Each city gets 1-3 successive scores per cycle (re-audits); events are interleaved.
    histories = {}
    for i in range(500):
        city_id = f"city-{i:03d}"
        region, band = rng.choice([*REGIONS, None]), rng.choice(POPULATION_BANDS)
        for cycle in rng.sample(["2025", "2026"], rng.randint(1, 2)):
            histories[(city_id, cycle)] = [_city(rng, wwc, city_id, cycle, region, band)
                                           for _ in range(rng.randint(1, 3))]
    events = [(key, n) for key, scores in histories.items() for n in range(len(scores))]
    rng.shuffle(events)
    events.sort(key=lambda e: e[1])  # keep each city's versions in order, cities interleaved
    order = {}
    for key, n in events:
        order.setdefault(n, []).append(key)
    book = BenchmarkBook()
    latest: dict = {}
    for n in sorted(order):
        keys = order[n]
        rng.shuffle(keys)
        for key in keys:
            new = histories[key][n]
            book.apply(latest.get(key), new)
            latest[key] = new

    rebuilt = BenchmarkBook.rebuild(latest.values())
    assert book == rebuilt
    for cycle in ("2025", "2026"):
        assert book.scopes(cycle) == rebuilt.scopes(cycle)
        for scope in book.scopes(cycle):
            assert book.snapshot(cycle, scope) == rebuilt.snapshot(cycle, scope)

    # And the snapshot is the plain average, rounded half up.
    cities = [c for c in latest.values() if c.cycle == "2026"]
    snap = book.snapshot("2026", ALL)
    n = len(cities)
    assert snap.applicants == n
    assert snap.average_percent == _round(Decimal(sum(c.percent for c in cities)) / n)
    assert snap.area_average["GM"] == _round(
        Decimal(sum(c.area_percent["GM"] for c in cities)) / n)
    assert snap.share("DG1") == _round(Decimal(100 * sum("DG1" in c.met for c in cities)) / n)
    band = [c for c in cities if c.population_band == "500K+"]
    assert book.snapshot("2026", band_scope("500K+")).applicants == len(band)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 10_000)), min_size=1, max_size=40))
def test_any_replacement_sequence_matches_rebuild(mini, steps):
    book, latest = BenchmarkBook(), {}
    for city, seed in steps:
        new = _city(random.Random(seed), mini, f"c{city}", "2026")
        book.apply(latest.get(new.city_id), new)
        latest[new.city_id] = new
    assert book == BenchmarkBook.rebuild(latest.values())


def test_small_cohorts_are_withheld(mini):
    rng = random.Random(1)
    cities = [_city(rng, mini, f"c{i}", "2026", "Caribbean" if i < 4 else "West", "30K-100K")
              for i in range(9)]
    book = BenchmarkBook.rebuild(cities)
    caribbean = book.snapshot("2026", region_scope("Caribbean"))
    assert caribbean.withheld and caribbean.applicants is None
    assert caribbean.average_percent is None and caribbean.share("A1") is None
    west = book.snapshot("2026", region_scope("West"))
    assert not west.withheld and west.applicants == 5
    assert book.snapshot("2026", ALL).applicants == 9
    assert book.snapshot("2026", region_scope("Canada")).withheld  # nobody at all
    assert book.snapshot("2026", ALL, min_cohort=10).withheld
    # Aggregates carry no city identity.
    assert "c1" not in book.snapshot("2026", ALL).model_dump_json()


def test_cohort_add_remove_roundtrip(mini):
    rng = random.Random(7)
    a, b = _city(rng, mini, "a", "2026"), _city(rng, mini, "b", "2026")
    cohort = Cohort()
    cohort.add(a)
    cohort.add(b)
    cohort.remove(a)
    only_b = Cohort()
    only_b.add(b)
    assert cohort == only_b
    cohort.remove(b)
    assert cohort == Cohort() and cohort.empty


def test_misuse_is_rejected(mini):
    rng = random.Random(3)
    a = _city(rng, mini, "a", "2026")
    book = BenchmarkBook()
    with pytest.raises(ValueError):
        book.remove(a)
    book.apply(None, a)
    with pytest.raises(ValueError, match="same city"):
        book.apply(a, _city(rng, mini, "b", "2026"))
    with pytest.raises(ValueError, match="one"):
        BenchmarkBook.rebuild([a, a])
    with pytest.raises(ValueError):
        CityScore(city_id="x", cycle="2026", region="Atlantis", population_band="30K-100K",
                  percent=1, area_percent={}, met=frozenset())
    with pytest.raises(ValueError):
        CityScore(city_id="x", cycle="2026", region=None, population_band="tiny",
                  percent=1, area_percent={}, met=frozenset())

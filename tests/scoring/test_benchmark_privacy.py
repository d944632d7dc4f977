"""Benchmarks identify no applicant: the tests play the reader who subtracts
(benchmark_reader.py). Within a release, the total minus a partition's shown cells
(bands; regions plus the no-region group) must never isolate fewer than five cities;
between releases, no figure and no such residual may move by fewer than five cities'
contributions. The rule is in shared/scoring/benchmarks.py."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from benchmark_reader import (
    CYCLE,
    assert_no_subtraction_reveals,
    assert_releases_never_differ_by_fewer_than_five,
    city,
    score_stream,
)
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from shared.catalog.geography import POPULATION_BANDS, REGIONS
from shared.scoring.benchmarks import (
    MIN_COHORT,
    BenchmarkBook,
    CityScore,
    PublishedBenchmarks,
    publish,
    release_batch,
)


# --- within one release ------------------------------------------------------------------------


def cohort_of(sizes: dict[str | None, int], by: str, rng: random.Random) -> list[CityScore]:
    """Cities by band (regions drawn at random) or by region (bands drawn at random)."""
    out = []
    for key, n in sizes.items():
        for _ in range(n):
            band = key if by == "band" else rng.choice(POPULATION_BANDS)
            region = key if by == "region" else rng.choice([*REGIONS, None])
            out.append(city(len(out), band, region, rng))
    return out


@pytest.mark.parametrize("sizes", [
    {"30K-100K": 3, "100K-250K": 10, "250K-500K": 12, "500K+": 7},  # one small band
    {"30K-100K": 1, "100K-250K": 5, "250K-500K": 0, "500K+": 0},  # small band and one other
    {"30K-100K": 2, "100K-250K": 2, "250K-500K": 9, "500K+": 0},  # two small bands: 4 together
    {"30K-100K": 4, "100K-250K": 6, "250K-500K": 6, "500K+": 6},  # tie: the first in band order
])
def test_total_minus_shown_bands_never_isolates_a_small_band(sizes):
    cities = cohort_of(sizes, "band", random.Random(1))
    assert_no_subtraction_reveals(cities, publish(BenchmarkBook.rebuild(cities), CYCLE))


def test_which_cells_are_withheld_is_the_documented_choice():
    cities = cohort_of({"30K-100K": 4, "100K-250K": 6, "250K-500K": 6, "500K+": 8}, "band", random.Random(2))
    bands = publish(BenchmarkBook.rebuild(cities), CYCLE).bands
    # 4 cities withheld, then the smallest shown band (6: the first of the two in catalog order).
    assert [b for b, s in bands.items() if s.withheld] == ["30K-100K", "100K-250K"]
    assert bands["500K+"].applicants == 8


@pytest.mark.parametrize("sizes", [
    {"Caribbean": 2, "West": 9, "South": 6, None: 0},  # one small region
    {"West": 9, "South": 6, None: 3},  # only the no-region group is small: a region must go too
    {"West": 9, "South": 6, "Canada": 1, None: 3},  # small region and no-region group: 4 together
    {"West": 9, "South": 6, None: 7},  # the no-region group alone is 5+: nothing else withheld
])
def test_total_minus_shown_regions_never_isolates_a_small_region_or_the_no_region_group(sizes):
    cities = cohort_of(sizes, "region", random.Random(3))
    published = publish(BenchmarkBook.rebuild(cities), CYCLE)
    assert_no_subtraction_reveals(cities, published)
    if sizes[None] == 3 and "Canada" not in sizes:
        assert published.regions["South"].withheld and not published.regions["West"].withheld
    if sizes[None] == 7:
        assert not published.regions["South"].withheld and not published.regions["West"].withheld


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(POPULATION_BANDS), st.sampled_from([*REGIONS, None]),
                          st.integers(0, 2**16)), max_size=40),
       st.sampled_from(POPULATION_BANDS), st.integers(1, MIN_COHORT - 1))
def test_no_cohort_is_revealed_by_subtraction(members, small_band, small_n):
    """Any cohort (with one band of 1-4 cities added on purpose): neither partition's
    residual isolates fewer than five cities, nor equals a small cell's figures."""
    rng = random.Random(len(members))
    cities = [city(i, band, region, random.Random(seed)) for i, (band, region, seed) in enumerate(members)
              if band != small_band]
    cities += [city(len(members) + k, small_band, rng.choice([*REGIONS, None]), rng) for k in range(small_n)]
    assert_no_subtraction_reveals(cities, publish(BenchmarkBook.rebuild(cities), CYCLE))


def test_an_area_not_every_city_was_scored_on_is_not_shown():
    """A cycle mixing catalogs: the area sums would cover other cities than the count."""
    rng = random.Random(4)
    cities = [city(i, "30K-100K", "West", rng) for i in range(6)]
    cities.append(city(6, "30K-100K", "West", rng, areas=("DG", "EVAL", "NEW")))
    published = publish(BenchmarkBook.rebuild(cities), CYCLE)
    assert set(published.all.area_average) == {"DG", "EVAL"}
    assert set(published.bands["30K-100K"].area_average) == {"DG", "EVAL"}


# --- between releases --------------------------------------------------------------------------


def run_releases(events, min_cohort=MIN_COHORT):
    """Score events in order, a release cut whenever rule 3 allows: [(state, published)]."""
    current: dict[str, CityScore] = {}
    released: dict[str, CityScore] = {}
    releases: list[tuple[dict[str, CityScore], PublishedBenchmarks]] = []
    for k, (i, band, region, seed) in enumerate(events):
        current[f"c{i}"] = city(i, band, region, random.Random(seed), version=k)
        previous = releases[-1][1] if releases else None
        pending = [(released.get(cid), now) for cid, now in current.items() if released.get(cid) != now]
        batch = release_batch(pending, previous, min_cohort)
        if batch:
            released = {**released, **{cid: current[cid] for cid in batch}}
            releases.append((released, publish(BenchmarkBook.rebuild(released.values()), CYCLE, min_cohort,
                                               previous)))
    return releases


# A failing stream is reported as found: shrinking a random stream replays it for minutes.
NO_SHRINKING = [Phase.explicit, Phase.reuse, Phase.generate]


@settings(max_examples=100, deadline=None, phases=NO_SHRINKING)
@given(st.randoms(use_true_random=False), st.integers(5, 60), st.integers(0, 200))
def test_releases_never_differ_by_fewer_than_five_cities(rng, cities, events):
    """Any stream of scores and re-scores (a city keeps its band and region here: see the
    rule's assumptions on movers): every two releases, consecutive or not, differ in each
    shown figure and each residual by 0 or at least five cities; each release on its own
    passes the subtraction test."""
    releases = run_releases(score_stream(rng, cities, events))
    assert_releases_never_differ_by_fewer_than_five(releases)
    for state, published in releases:
        assert_no_subtraction_reveals(list(state.values()), published)


@settings(max_examples=100, deadline=None, phases=NO_SHRINKING)
@given(st.randoms(use_true_random=False), st.integers(5, 60), st.integers(0, 200))
def test_consecutive_releases_differ_by_five_cities_even_when_cities_move(rng, cities, events):
    releases = run_releases(score_stream(rng, cities, events, moves=0.3))
    assert_releases_never_differ_by_fewer_than_five(releases, pairs=pairwise)
    for state, published in releases:
        assert_no_subtraction_reveals(list(state.values()), published)


def test_a_band_changed_by_one_city_waits_even_when_five_changed_overall():
    """Five new cities, one of them in an already shown band: that one waits."""
    events = [(i, "30K-100K", "West", i) for i in range(5)] + [(i, "100K-250K", "West", i) for i in range(5, 10)]
    assert [published.all.applicants for _, published in run_releases(events)] == [5, 10]
    more = events + [(10, "30K-100K", "South", 10)] + [(i, "100K-250K", "South", i) for i in range(11, 15)]
    releases = run_releases(more)
    assert len(releases) == 2  # 4 in 100K-250K and 1 in 30K-100K: neither may move yet
    releases = run_releases(more + [(15, "100K-250K", "South", 15)])
    assert releases[-1][1].bands["100K-250K"].applicants == 10
    assert releases[-1][1].bands["30K-100K"].applicants == 5  # still waiting for company
    assert "c10" not in releases[-1][0]
    assert_releases_never_differ_by_fewer_than_five(releases)


def test_release_batch_rule():
    rng = random.Random(5)
    first = [(None, city(i, "30K-100K", "West", rng)) for i in range(5)]
    assert release_batch(first[:4]) == frozenset()
    assert release_batch(first) == {f"c{i}" for i in range(5)}
    previous = publish(BenchmarkBook.rebuild([new for _, new in first]), CYCLE)
    rescored = [(old, city(i, "30K-100K", "West", rng, version=1)) for i, (_, old) in enumerate(first)]
    assert release_batch(rescored[:4], previous) == frozenset()  # a re-score counts as a change
    assert release_batch(rescored, previous) == {f"c{i}" for i in range(5)}
    # A new region, a withheld one: pooled with the residual, it needs five as well.
    newcomers = [(None, city(10 + i, "30K-100K", "Caribbean", rng)) for i in range(5)]
    assert release_batch(newcomers[:4], previous) == frozenset()
    assert release_batch([*newcomers, rescored[0]], previous) == {f"c{10 + i}" for i in range(5)}
    with pytest.raises(ValueError):
        release_batch([(None, None)])
    with pytest.raises(ValueError):
        release_batch([first[0], first[0]])

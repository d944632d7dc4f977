"""The reader who subtracts: what published benchmarks let someone total, and checks that
it never isolates fewer than five cities. Shared by the privacy tests (pure and stored).

The reader here is stronger than a real one: it knows every shown cohort's exact sums,
not the rounded averages."""

from __future__ import annotations

import random
from collections import Counter
from itertools import combinations

from shared.catalog.geography import POPULATION_BANDS, REGIONS
from shared.scoring.benchmarks import MIN_COHORT, CityScore, PublishedBenchmarks

CYCLE = "2026"
AREAS = ("DG", "EVAL", "GM")
NONE = "(no region)"


def city(i: int, band: str, region: str | None, rng: random.Random, areas=AREAS, version: int = 0) -> CityScore:
    """A city's score; ``version`` marks a re-score apart even when its figures repeat."""
    criteria = [f"{a}{n}" for a in areas for n in (1, 2)]
    return CityScore(city_id=f"c{i}", cycle=CYCLE, region=region, population_band=band,
                     percent=rng.randint(0, 100), area_percent={a: rng.randint(0, 100) for a in areas},
                     met=frozenset(c for c in criteria if rng.random() < 0.5) | {f"version-{version}"})


def figures(cities) -> Counter:
    """Every figure a cohort's sums carry (count, percent sum, area sums and counts, met counts)."""
    out: Counter = Counter()
    for c in cities:
        out["count"] += 1
        out["percent"] += c.percent
        for area, pct in c.area_percent.items():
            out[f"area:{area}"] += pct
            out[f"cities:{area}"] += 1
        for cid in c.met:
            out[f"met:{cid}"] += 1
    return out


def cells(cities, partition: str) -> dict[str, list[CityScore]]:
    if partition == "bands":
        return {b: [c for c in cities if c.population_band == b] for b in POPULATION_BANDS}
    out = {r: [c for c in cities if c.region == r] for r in REGIONS}
    out[NONE] = [c for c in cities if c.region is None]
    return out


def shown(published: PublishedBenchmarks, partition: str) -> set[str]:
    snaps = published.bands if partition == "bands" else published.regions
    return {name for name, snap in snaps.items() if not snap.withheld}


def residual(cities, published: PublishedBenchmarks, partition: str) -> list[CityScore]:
    """The cities behind "total minus every shown cell" (what the reader can isolate)."""
    return [c for name, members in cells(cities, partition).items()
            if name not in shown(published, partition) for c in members]


def assert_no_subtraction_reveals(cities, published: PublishedBenchmarks) -> None:
    if len(cities) < MIN_COHORT:
        assert published.all.withheld
        return
    assert published.all.applicants == len(cities)
    for partition in ("bands", "regions"):
        rest = residual(cities, published, partition)
        derived = figures(cities).copy()
        for name, members in cells(cities, partition).items():
            if name in shown(published, partition):
                assert len(members) >= MIN_COHORT
                derived.subtract(figures(members))
        derived = +derived
        assert derived == figures(rest)  # the reader's subtraction, done with exact sums
        assert derived["count"] == 0 or derived["count"] >= MIN_COHORT, (partition, derived["count"])
        for name, members in cells(cities, partition).items():
            if 0 < len(members) < MIN_COHORT:
                assert name not in shown(published, partition)
                assert derived != figures(members), f"{partition}: {name} recovered by subtraction"


def contributions_differ(a: dict[str, CityScore], b: dict[str, CityScore], in_cell) -> int:
    """How many cities' contributions to a set of cities differ between two states."""
    def part(state: dict[str, CityScore], cid: str) -> CityScore | None:
        score = state.get(cid)
        return score if score is not None and in_cell(score) else None

    return sum(1 for cid in a.keys() | b.keys() if part(a, cid) != part(b, cid))


def derivable(published: PublishedBenchmarks) -> dict[str, object]:
    """Each set of cities a reader can total from one release: a shown cohort or a residual."""
    out: dict[str, object] = {"all": lambda c: True}
    for b in shown(published, "bands"):
        out[f"band:{b}"] = lambda c, b=b: c.population_band == b
    for r in shown(published, "regions"):
        out[f"region:{r}"] = lambda c, r=r: c.region == r
    out["bands residual"] = lambda c, s=shown(published, "bands"): c.population_band not in s
    out["regions residual"] = lambda c, s=shown(published, "regions"): c.region not in s
    return out


def assert_releases_never_differ_by_fewer_than_five(releases, pairs=lambda rs: combinations(rs, 2)) -> None:
    for (state_a, pub_a), (state_b, pub_b) in pairs(releases):
        assert shown(pub_a, "bands") <= shown(pub_b, "bands")  # a cohort once shown stays shown
        assert shown(pub_a, "regions") <= shown(pub_b, "regions")
        # So every set the older release lets a reader total can be totalled in the newer one
        # too (its residual is the newer residual plus the cohorts shown since).
        for name, in_cell in derivable(pub_a).items():
            moved = contributions_differ(state_a, state_b, in_cell)
            assert moved == 0 or moved >= MIN_COHORT, (name, moved)


def score_stream(rng: random.Random, cities: int, events: int, moves: float = 0.0) -> list[tuple]:
    """Scores and re-scores of ``cities`` cities, most of them in the big bands and regions;
    with ``moves``, a re-score may put a city in another band or region."""
    home: dict[int, tuple] = {}
    out = []
    for _ in range(events):
        i = rng.randrange(cities)
        if i not in home or rng.random() < moves:
            home[i] = (rng.choices(POPULATION_BANDS, (45, 30, 15, 10))[0],
                       rng.choices([*REGIONS, None], (20, 20, 25, 20, 5, 4, 2, 4, 2))[0])
        out.append((i, *home[i], rng.randrange(2**16)))
    return out

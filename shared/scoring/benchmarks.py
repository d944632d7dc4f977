"""Benchmark aggregates: all applicants, cities your size, the regional playing field.

Cohorts hold counts and integer sums only, so adding or removing a city costs
O(criteria) whatever the cohort size, and an incremental book equals one rebuilt from
scratch. No city identity is kept in an aggregate; a cohort under ``min_cohort`` cities
is withheld. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.scoring.engine import ScoreResult, percent
from shared.catalog.geography import POPULATION_BANDS, REGIONS

MIN_COHORT = 5
ALL = "all"


def band_scope(band: str) -> str:
    return f"band:{band}"


def region_scope(region: str) -> str:
    return f"region:{region}"


class CityScore(BaseModel):
    """One city's latest audited score in a cycle, as benchmarks need it."""

    model_config = ConfigDict(frozen=True)

    city_id: str
    cycle: str
    region: str | None  # None: no region (e.g. unknown); still counts in "all" and its band
    population_band: str
    percent: int = Field(ge=0, le=100)
    area_percent: dict[str, int]
    met: frozenset[str]

    @field_validator("population_band")
    @classmethod
    def _known_band(cls, value: str) -> str:
        if value not in POPULATION_BANDS:
            raise ValueError(f"unknown population band {value!r}")
        return value

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGIONS:
            raise ValueError(f"unknown region {value!r}")
        return value

    @classmethod
    def from_result(cls, *, city_id: str, cycle: str, region: str | None,
                    population_band: str, result: ScoreResult) -> CityScore:
        return cls(city_id=city_id, cycle=cycle, region=region,
                   population_band=population_band, percent=result.percent,
                   area_percent={a.id: a.percent for a in result.areas},
                   met=frozenset(result.met_ids))

    def scopes(self) -> list[str]:
        out = [ALL, band_scope(self.population_band)]
        if self.region:
            out.append(region_scope(self.region))
        return out


class CohortSnapshot(BaseModel):
    """What may be shown of a cohort; everything is None when ``withheld``."""

    model_config = ConfigDict(frozen=True)

    withheld: bool
    applicants: int | None = None
    average_percent: int | None = None
    area_average: dict[str, int] | None = None  # area id -> average of city percentages
    criterion_share: dict[str, int] | None = None  # criterion id -> % of cities meeting it

    def share(self, criterion_id: str) -> int | None:
        """% of cities meeting the criterion (0 if none does); None when withheld."""
        if self.withheld or self.criterion_share is None:
            return None
        return self.criterion_share.get(criterion_id, 0)


@dataclass
class Cohort:
    """Running sums for one (cycle, scope)."""

    count: int = 0
    percent_sum: int = 0
    area_sum: Counter[str] = field(default_factory=Counter)
    area_count: Counter[str] = field(default_factory=Counter)
    met_count: Counter[str] = field(default_factory=Counter)

    def add(self, city: CityScore) -> None:
        self._apply(city, +1)

    def remove(self, city: CityScore) -> None:
        if self.count <= 0 or any(self.met_count[c] <= 0 for c in city.met):
            raise ValueError("removing a score that is not in this cohort")
        self._apply(city, -1)

    def _apply(self, city: CityScore, sign: int) -> None:
        self.count += sign
        self.percent_sum += sign * city.percent
        for area, pct in city.area_percent.items():
            self.area_sum[area] += sign * pct
            self.area_count[area] += sign
        for cid in city.met:
            self.met_count[cid] += sign
        # Drop empty entries so an incremental cohort compares equal to a rebuilt one. An
        # area is empty when no city counts in it (its sum may be 0 with cities in it).
        for area in [a for a, n in self.area_count.items() if n == 0]:
            del self.area_count[area]
            self.area_sum.pop(area, None)
        for cid in [c for c, n in self.met_count.items() if n == 0]:
            del self.met_count[cid]

    @property
    def empty(self) -> bool:
        return self.count == 0

    def snapshot(self, min_cohort: int = MIN_COHORT) -> CohortSnapshot:
        if self.count < max(min_cohort, 1):
            return CohortSnapshot(withheld=True)
        return CohortSnapshot(
            withheld=False,
            applicants=self.count,
            average_percent=percent(self.percent_sum, 100 * self.count),
            area_average={a: percent(self.area_sum[a], 100 * n) for a, n in sorted(self.area_count.items())},
            criterion_share={c: percent(n, self.count) for c, n in sorted(self.met_count.items())},
        )


class BenchmarkBook:
    """Cohorts keyed by (cycle, scope), scope in ``all``, ``band:<band>``, ``region:<r>``."""

    def __init__(self) -> None:
        self._cohorts: dict[tuple[str, str], Cohort] = {}

    def apply(self, old: CityScore | None, new: CityScore) -> None:
        """Replace a city's previous latest score in the cycle (``old``) by ``new``."""
        if old is not None:
            if (old.city_id, old.cycle) != (new.city_id, new.cycle):
                raise ValueError("old and new scores must be the same city and cycle")
            self.remove(old)
        self.add(new)

    def add(self, city: CityScore) -> None:
        for scope in city.scopes():
            self._cohorts.setdefault((city.cycle, scope), Cohort()).add(city)

    def remove(self, city: CityScore) -> None:
        for scope in city.scopes():
            key = (city.cycle, scope)
            if key not in self._cohorts:
                raise ValueError("removing a score that is not in this book")
            self._cohorts[key].remove(city)
            if self._cohorts[key].empty:
                del self._cohorts[key]

    @classmethod
    def rebuild(cls, summaries: Iterable[CityScore]) -> BenchmarkBook:
        """From scratch, from each city's latest score per cycle (one per city and cycle)."""
        book = cls()
        seen: set[tuple[str, str]] = set()
        for city in summaries:
            if (city.city_id, city.cycle) in seen:
                raise ValueError("rebuild takes one (latest) score per city and cycle")
            seen.add((city.city_id, city.cycle))
            book.add(city)
        return book

    def cohort(self, cycle: str, scope: str = ALL) -> Cohort:
        return self._cohorts.get((cycle, scope), Cohort())

    def snapshot(self, cycle: str, scope: str = ALL, min_cohort: int = MIN_COHORT
                 ) -> CohortSnapshot:
        return self.cohort(cycle, scope).snapshot(min_cohort)

    def scopes(self, cycle: str) -> list[str]:
        return sorted(scope for c, scope in self._cohorts if c == cycle)

    def items(self) -> Mapping[tuple[str, str], Cohort]:
        return dict(self._cohorts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BenchmarkBook) and self._cohorts == other._cohorts

    __hash__ = None  # type: ignore[assignment]  # mutable


# --- what may be published -------------------------------------------------------------------


class PublishedBenchmarks(BaseModel):
    """Every benchmark figure of one cycle that may be shown, as one set: all applicants,
    each population band and each region. A withheld cohort shows nothing at all.

    This is the one place that decides what is published; the scoring API and the
    Certification Report (and its offline preview) both read figures from it."""

    model_config = ConfigDict(frozen=True)

    cycle: str
    all: CohortSnapshot
    bands: dict[str, CohortSnapshot]
    regions: dict[str, CohortSnapshot]


def publish(book: BenchmarkBook, cycle: str, min_cohort: int = MIN_COHORT) -> PublishedBenchmarks:
    """The publishable figures of a cycle: cohorts under ``min_cohort`` are withheld."""
    return PublishedBenchmarks(
        cycle=cycle,
        all=book.snapshot(cycle, ALL, min_cohort),
        bands={b: book.snapshot(cycle, band_scope(b), min_cohort) for b in POPULATION_BANDS},
        regions={r: book.snapshot(cycle, region_scope(r), min_cohort) for r in REGIONS},
    )

"""Benchmark aggregates: all applicants, cities your size, the regional playing field.

Cohorts hold counts and integer sums only, so adding or removing a city costs
O(criteria) whatever the cohort size, and an incremental book equals one rebuilt from
scratch. No city identity is kept in an aggregate. Pure: no I/O.

Applicants are never public, so no published figure may identify one. The rule, in full
(``min_cohort`` is 5; a city's figures are its count, percent, area percentages and met
criteria, and a cohort's figures are their sums):

1. *Small cohorts.* A cohort (all applicants, a population band, a region) with fewer than
   ``min_cohort`` cities is withheld: nothing of it is shown. An area average is shown only
   when every city of the cohort was scored on that area (a cycle may mix catalogs), so
   every figure of a cohort covers the same cities.
2. *Subtraction within a release* (``publish``). The bands partition "all"; so do the
   regions together with the cities that have no region, a cell never shown. Subtracting
   a partition's shown cells from the total yields its withheld cells' figures together
   (the residual). The residual must hold 0 or at least ``min_cohort`` cities; while it
   holds fewer, the shown cell with the fewest cities (one not shown in the previous release
   first, then catalog order) is withheld too. The total itself never needs withholding: with
   every cell withheld the residual is the total. So a withheld cell of 1 to
   ``min_cohort`` - 1 cities is only ever seen pooled with at least ``min_cohort`` cities;
   an empty cell can be seen to be empty, which identifies nobody.
3. *Change between releases* (``release_batch``). Figures are published in releases, and a
   cohort once shown stays shown for the rest of the cycle: each release's cells (all, each
   shown cohort, and each partition's residual as one pooled cell) are unions of the next
   one's. A release takes the largest batch of pending changes (a city added, removed, or
   whose latest score was replaced; a city that moves touches its old and new cells) in
   which every cell of the last release has 0 or at least ``min_cohort`` cities changing and
   keeps at least ``min_cohort`` cities (a residual: 0 or at least ``min_cohort``); other
   changes wait for company. Any figure or residual derivable in two releases is a union of
   the older one's cells, so it differs by 0 or at least ``min_cohort`` cities'
   contributions, whichever two releases are compared. The first release of a cycle
   (nothing shown before) takes every pending city once there are ``min_cohort`` of them.

What the rule assumes: subtraction is exact (rounding of the averages hides nothing);
band x region cross-tabulations are never published, so a band minus a region means
nothing to a reader; a city whose band or region moves away and back between releases
counts in each batch it is in, not in the net change between distant releases.
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
NO_REGION = "no-region"  # cities with no region: in "all" and their band, never shown alone


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
    """What may be shown of a cohort; everything is None when ``withheld``. An area missing
    from ``area_average`` is withheld: not every city of the cohort was scored on it."""

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
            area_average={a: percent(self.area_sum[a], 100 * n) for a, n in sorted(self.area_count.items())
                          if n == self.count},
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
    def from_cohorts(cls, cohorts: Mapping[tuple[str, str], Cohort]) -> BenchmarkBook:
        """From stored sums, keyed by (cycle, scope)."""
        book = cls()
        book._cohorts = {key: cohort for key, cohort in cohorts.items() if not cohort.empty}
        return book

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
        """One cohort on its own (rule 1 only); what may be shown is ``publish``'s answer."""
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


def _withhold(sizes: dict[str, int], hidden: set[str], shown_before: set[str], min_cohort: int) -> set[str]:
    """Rules 1 and 2 for one partition of the shown total: its withheld cells."""
    withheld = {cell for cell, n in sizes.items() if cell in hidden or n < min_cohort}
    residual = sum(sizes[cell] for cell in withheld)
    while 0 < residual < min_cohort:
        # Never empty: with every cell withheld the residual is the total. A cell shown in the
        # previous release is picked last: rule 3 keeps the residual valid without one.
        shown = [cell for cell, n in sizes.items() if n and cell not in withheld]
        pick = min(shown, key=lambda cell: (cell in shown_before, sizes[cell]))
        withheld.add(pick)
        residual += sizes[pick]
    return withheld


def _shown(snapshots: Mapping[str, CohortSnapshot]) -> set[str]:
    return {name for name, snap in snapshots.items() if not snap.withheld}


def publish(book: BenchmarkBook, cycle: str, min_cohort: int = MIN_COHORT,
            previous: PublishedBenchmarks | None = None) -> PublishedBenchmarks:
    """The publishable figures of a cycle (rules 1 and 2 of the module docstring).

    ``previous``: the cycle's last release, whose shown cohorts stay shown (rule 3)."""
    min_cohort = max(min_cohort, 1)
    total = book.cohort(cycle, ALL)
    bands = {b: book.cohort(cycle, band_scope(b)) for b in POPULATION_BANDS}
    regions = {r: book.cohort(cycle, region_scope(r)) for r in REGIONS}
    if total.count < min_cohort:
        nothing = CohortSnapshot(withheld=True)
        return PublishedBenchmarks(cycle=cycle, all=nothing, bands=dict.fromkeys(bands, nothing),
                                   regions=dict.fromkeys(regions, nothing))
    region_sizes = {r: c.count for r, c in regions.items()}
    region_sizes[NO_REGION] = total.count - sum(region_sizes.values())
    band_withheld = _withhold({b: c.count for b, c in bands.items()}, set(),
                              _shown(previous.bands) if previous else set(), min_cohort)
    region_withheld = _withhold(region_sizes, {NO_REGION},
                                _shown(previous.regions) if previous else set(), min_cohort)
    withheld = CohortSnapshot(withheld=True)
    return PublishedBenchmarks(
        cycle=cycle,
        all=total.snapshot(min_cohort),
        bands={b: withheld if b in band_withheld else c.snapshot(min_cohort) for b, c in bands.items()},
        regions={r: withheld if r in region_withheld else c.snapshot(min_cohort) for r, c in regions.items()},
    )


# --- when a new release may be cut ------------------------------------------------------------

Change = tuple[CityScore | None, CityScore | None]
"""A city pending publication: its score in the last release (None: not in it) and now
(None: removed)."""

WITHHELD_BANDS, WITHHELD_REGIONS = "band:*", "region:*"  # rule 3's pooled residual cells
_POOLED = {WITHHELD_BANDS, WITHHELD_REGIONS}


def _release_cells(city: CityScore, previous: PublishedBenchmarks) -> set[str]:
    """The cells of the last release's pattern that a city is in: a shown cohort, or the
    residual of its partition."""
    band = band_scope(city.population_band) if not previous.bands[city.population_band].withheld \
        else WITHHELD_BANDS
    region = region_scope(city.region) if city.region and not previous.regions[city.region].withheld \
        else WITHHELD_REGIONS
    return {ALL, band, region}


def _released_sizes(previous: PublishedBenchmarks) -> Counter[str]:
    """Cities in each cell of the last release, all read from its figures."""
    total = previous.all.applicants or 0
    bands = {band_scope(b): s.applicants or 0 for b, s in previous.bands.items() if not s.withheld}
    regions = {region_scope(r): s.applicants or 0 for r, s in previous.regions.items() if not s.withheld}
    return Counter({ALL: total, **bands, **regions, WITHHELD_BANDS: total - sum(bands.values()),
                    WITHHELD_REGIONS: total - sum(regions.values())})


def release_batch(changes: Iterable[Change], previous: PublishedBenchmarks | None = None,
                  min_cohort: int = MIN_COHORT) -> frozenset[str]:
    """Rule 3: the cities (ids) of one cycle whose pending change goes into the next release;
    empty when no release may be cut. ``previous``: the cycle's last release, if any.

    A batch is valid when each cell of the last release's pattern has 0 or at least
    ``min_cohort`` cities changing in it, and is left with 0 (a residual) or at least
    ``min_cohort`` cities. Peeling off every city of a cell that breaks this, until none
    does, leaves a valid batch; the largest one when no city leaves a cell (valid batches are
    then closed under union, and a peeled city is in no valid subset of what was left)."""
    cycles: set[str] = set()
    cities: dict[str, Change] = {}
    for old, new in changes:
        versions = [v for v in (old, new) if v is not None]
        if not versions or len({(v.city_id, v.cycle) for v in versions}) != 1:
            raise ValueError("a change is one city's old and/or new score in one cycle")
        if versions[0].city_id in cities:
            raise ValueError(f"city {versions[0].city_id!r} has more than one pending change")
        cities[versions[0].city_id] = (old, new)
        cycles.add(versions[0].cycle)
    if len(cycles) > 1 or (previous is not None and cycles and previous.cycle not in cycles):
        raise ValueError("a release is cut for one cycle at a time")
    if previous is None or previous.all.withheld:  # nothing shown yet: nothing to compare with
        return frozenset(cities) if len(cities) >= min_cohort else frozenset()
    before = _released_sizes(previous)
    cells = {city: (_release_cells(old, previous) if old else set(),
                    _release_cells(new, previous) if new else set()) for city, (old, new) in cities.items()}
    batch = set(cities)
    while True:
        changing = Counter(cell for city in batch for cell in cells[city][0] | cells[city][1])
        after = before.copy()
        after.update(cell for city in batch for cell in cells[city][1])
        after.subtract(cell for city in batch for cell in cells[city][0])
        bad = {cell for cell, n in changing.items() if n < min_cohort
               or (0 < after[cell] < min_cohort if cell in _POOLED else after[cell] < min_cohort)}
        if not bad:
            return frozenset(batch)
        batch = {city for city in batch if not (cells[city][0] | cells[city][1]) & bad}

"""The programme's figures, from facts read off its events: pure functions, no I/O.

Each submission counts once per figure, with its latest fact (a score or a review
published again later replaces the earlier one). Time in a stage counts finished stays
only: a submission still in a stage has no duration there yet (it is counted as "now in
the stage"), and the terminal stages (completed, withdrawn) have none."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from certification.contract import Stage
from services.reporting.ledger import stage_durations

TERMINAL = frozenset({Stage.COMPLETED.value, Stage.WITHDRAWN.value})
STAGE_ORDER = [s.value for s in Stage]


# --- facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    submission_id: str
    city_id: str
    cycle: str
    at: datetime


@dataclass(frozen=True)
class Scored:
    submission_id: str
    tier: str | None
    percent: int
    area_percent: Mapping[str, int]
    at: datetime


@dataclass(frozen=True)
class Change:
    criterion: str
    from_response: str
    to_response: str
    reason_code: str


@dataclass(frozen=True)
class Reviewed:
    submission_id: str
    changes: tuple[Change, ...]
    at: datetime


@dataclass(frozen=True)
class StageEntered:
    submission_id: str
    stage: str
    at: datetime


# --- figures ----------------------------------------------------------------------------------


def cities_applied(submitted: Iterable[Submitted], cycle: str) -> int:
    """The programme's one count of applicants: cities that submitted an application in
    the cycle (each city once, whatever became of its submissions). The dashboard and the
    Certification Report both say this number."""
    return len({s.city_id for s in submitted if s.cycle == cycle})


@dataclass(frozen=True)
class CycleApplicants:
    cycle: str
    cities: int  # cities_applied
    submissions: int
    scored: int
    certified: int
    withdrawn: int


@dataclass(frozen=True)
class AreaAverage:
    area: str
    average: float  # mean of the scored submissions' area percentages, one decimal
    scores: int


@dataclass(frozen=True)
class ChangeCount:
    criterion: str
    from_response: str
    to_response: str
    count: int


@dataclass(frozen=True)
class StageTime:
    stage: str
    stays: int  # submissions with a finished stay in the stage
    median_seconds: float | None
    p90_seconds: float | None
    now: int  # submissions in the stage now


@dataclass(frozen=True)
class Figures:
    applicants: list[CycleApplicants]
    tiers: dict[str, Counter]  # cycle -> tier (None: not certified) -> submissions
    areas: list[AreaAverage]
    changes: list[ChangeCount]
    reasons: list[tuple[str, int]]
    stages: list[StageTime]
    cycles: list[str] = field(default_factory=list)


T = TypeVar("T", Scored, Reviewed)


def latest(facts: Iterable[T]) -> dict[str, T]:
    """Each submission's latest fact (by time; on a tie, the one read last)."""
    out: dict[str, T] = {}
    for fact in facts:
        if fact.submission_id not in out or fact.at >= out[fact.submission_id].at:
            out[fact.submission_id] = fact
    return out


def histories(entered: Iterable[StageEntered], submitted: Mapping[str, Submitted]
              ) -> dict[str, list[tuple[str, datetime]]]:
    """Each submission's stages in order. The first stage, `submitted`, starts when the
    submission was submitted (the first status change recorded is the move out of it)."""
    out: dict[str, list[tuple[str, datetime]]] = {}
    for e in sorted(entered, key=lambda e: e.at):
        out.setdefault(e.submission_id, []).append((e.stage, e.at))
    for sid, sub in submitted.items():
        history = out.setdefault(sid, [])
        if not history or (history[0][0] != Stage.SUBMITTED.value and sub.at <= history[0][1]):
            history.insert(0, (Stage.SUBMITTED.value, sub.at))
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks (NumPy's
    default; the median of an even count is the mean of the middle two); None if empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean_one_decimal(values: Sequence[int]) -> float:
    """The mean, rounded half up to one decimal (as the reports round percentages)."""
    exact = Decimal(sum(values)) / Decimal(len(values))
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def stage_times(history_of: Mapping[str, list[tuple[str, datetime]]]) -> list[StageTime]:
    spent: dict[str, list[float]] = {}
    now: Counter = Counter()
    for history in history_of.values():
        if not history:
            continue
        # Every stay but the current one.
        finished = stage_durations(history[:-1], history[-1][1]) if len(history) > 1 else {}
        for stage, seconds in finished.items():
            spent.setdefault(stage, []).append(seconds)
        if history[-1][0] not in TERMINAL:
            now[history[-1][0]] += 1
    stages = [s for s in STAGE_ORDER if s not in TERMINAL]
    stages += sorted((set(spent) | set(now)) - set(stages) - TERMINAL)
    return [StageTime(stage=s, stays=len(spent.get(s, [])), median_seconds=percentile(spent.get(s, []), 0.5),
                      p90_seconds=percentile(spent.get(s, []), 0.9), now=now[s]) for s in stages]


def figures(*, submitted: Iterable[Submitted], scored: Iterable[Scored], reviewed: Iterable[Reviewed],
            entered: Iterable[StageEntered], cycle: str | None = None, area_order: Sequence[str] = (),
            top_changes: int = 10) -> Figures:
    """Every figure of the dashboard, for one cycle or (None) all of them. Facts about a
    submission whose cycle is unknown (its submission event not received) are left out."""
    subs = {s.submission_id: s for s in submitted}
    cycles = sorted({s.cycle for s in subs.values()}, reverse=True)
    if cycle:
        subs = {sid: s for sid, s in subs.items() if s.cycle == cycle}
    scores = {sid: s for sid, s in latest(scored).items() if sid in subs}
    reviews = {sid: r for sid, r in latest(reviewed).items() if sid in subs}
    history_of = histories([e for e in entered if e.submission_id in subs], subs)

    applicants = []
    tiers: dict[str, Counter] = {}
    for c in sorted({s.cycle for s in subs.values()}, reverse=True):
        ids = [sid for sid, s in subs.items() if s.cycle == c]
        in_cycle = [scores[sid] for sid in ids if sid in scores]
        withdrawn = sum(1 for sid in ids if history_of.get(sid) and history_of[sid][-1][0] == Stage.WITHDRAWN.value)
        tiers[c] = Counter(s.tier for s in in_cycle)
        applicants.append(CycleApplicants(cycle=c, cities=cities_applied(subs.values(), c), submissions=len(ids),
                                          scored=len(in_cycle), certified=sum(1 for s in in_cycle if s.tier),
                                          withdrawn=withdrawn))

    by_area: dict[str, list[int]] = {}
    for s in scores.values():
        for area, pct in s.area_percent.items():
            by_area.setdefault(area, []).append(pct)
    order = {a: i for i, a in enumerate(area_order)}
    areas = [AreaAverage(area=a, average=mean_one_decimal(v), scores=len(v))
             for a, v in sorted(by_area.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))]

    change_counter: Counter = Counter()
    reason_counter: Counter = Counter()
    for r in reviews.values():
        for ch in r.changes:
            change_counter[(ch.criterion, ch.from_response, ch.to_response)] += 1
            reason_counter[ch.reason_code] += 1
    changes = [ChangeCount(criterion=k[0], from_response=k[1], to_response=k[2], count=n)
               for k, n in sorted(change_counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top_changes]]
    reasons = sorted(reason_counter.items(), key=lambda kv: (-kv[1], kv[0]))

    return Figures(applicants=applicants, tiers=tiers, areas=areas, changes=changes, reasons=reasons,
                   stages=stage_times(history_of), cycles=cycles)

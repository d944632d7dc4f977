"""Next-tier simulator: the fewest criteria to turn to YES to reach the next tier. Pure.

The problem: choose S among criteria not answered YES so that the criteria met after
setting S to YES reach the target's points and breadth, with |S| minimal. Met sets are
closed under prerequisites, and a criterion already answered YES but blocked by a
prerequisite is unlocked for free, so with prerequisites this is a small precedence-
constrained covering problem. It is solved exactly, in one pass:

* Among the minimal sets, the one favouring the practices peers adopt most wins:
  compare sets by their members' ranks (adoption, then catalog order), best first,
  lexicographically. Giving the candidate of rank r the weight 2**(n-1-r) turns that
  into "maximise the weight", which is additive, so a dynamic programme can carry it
  next to the cost: every state keeps the best (cost, -weight).
* Criteria linked by prerequisites (among those not yet met) go through that dynamic
  programme in prerequisite order; its state is (included criteria that later ones
  still depend on, components covered, points capped at the target).
* Unlinked criteria are interchangeable apart from their components, so they are
  counted, not enumerated: after a linked state, the fewest more is
  max(criteria needed to cover the missing components, points still missing), and the
  best-ranked completion of that size is picked greedily with a feasibility check.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.scoring.benchmarks import CohortSnapshot, PublishedBenchmarks
from shared.scoring.engine import (
    Response,
    ScoreResult,
    UnknownCriterionError,
    normalize_responses,
    points_needed,
    score,
)
from shared.catalog import Catalog, Tier


class SimulatedCriterion(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    area: str
    components: list[str]
    response: Response  # the current response, to be turned to YES
    adoption: float  # share (0..1) of peer cities meeting it
    prerequisites: list[str]  # as in the catalog, for display


class Simulation(BaseModel):
    model_config = ConfigDict(frozen=True)

    catalog_version: str
    current_tier: str | None
    current_percent: int
    target_tier: str | None  # None: already at the highest tier
    criteria: list[SimulatedCriterion]  # the minimal set, most adopted first
    unlocked: list[str]  # already YES, start counting once their prerequisites are met
    result: ScoreResult  # the score with the set turned to YES
    message: str


def what_if(catalog: Catalog, responses: Mapping[str, str]) -> ScoreResult:
    return score(catalog, responses)


RankedBy = Literal["band", "all", "catalog"]


class Path(BaseModel):
    """The way to the next tier as scoring reports it with a score: the simulator's
    smallest set, with whose adoption ranked equal-sized sets."""

    model_config = ConfigDict(frozen=True)

    simulation: Simulation
    ranked_by: RankedBy


def path_for(catalog: Catalog, result: ScoreResult, benchmarks: PublishedBenchmarks,
             population_band: str | None) -> Path:
    """Ranked by what cities of the same size achieve; by all applicants when that cohort
    is withheld; by catalog order when both are (the published figures only)."""
    band = benchmarks.bands.get(population_band or "") or CohortSnapshot(withheld=True)
    ranked_by: RankedBy = "catalog"
    adoption = None
    for name, cohort in (("band", band), ("all", benchmarks.all)):
        if not cohort.withheld and cohort.criterion_share is not None:
            ranked_by = name
            adoption = {cid: cohort.share(cid) / 100 for cid in catalog.criterion_ids}
            break
    simulation = next_tier(catalog, {c.id: c.response.value for c in result.criteria}, adoption)
    return Path(simulation=simulation, ranked_by=ranked_by)


def next_tier(catalog: Catalog, responses: Mapping[str, str],
              adoption: Mapping[str, float] | None = None) -> Simulation:
    resp = normalize_responses(catalog, responses)
    shares = _adoption(catalog, adoption)
    current = score(catalog, resp)
    ranks = [t.id for t in catalog.tiers]
    level = ranks.index(current.tier) if current.tier else -1
    name = lambda t: catalog.text(t, "en")

    if level + 1 >= len(catalog.tiers):
        top = catalog.tiers[-1]
        return Simulation(catalog_version=catalog.version, current_tier=current.tier,
                          current_percent=current.percent, target_tier=None, criteria=[],
                          unlocked=[], result=current,
                          message=f"Already {name(top)}, the highest tier; no higher tier.")

    target = catalog.tiers[level + 1]
    rank = lambda cid: (-shares[cid], catalog.position(cid))
    chosen = _Search(catalog, resp, current, target, rank).choose()

    after = score(catalog, {**resp, **{cid: Response.YES for cid in chosen}})
    if after.tier is None or ranks.index(after.tier) <= level:
        raise RuntimeError(f"simulator bug: {sorted(chosen)} does not reach {target.id}")
    before = set(current.met_ids)
    unlocked = [cid for cid in after.met_ids if cid not in before and cid not in chosen]
    ordered = _prerequisites_first(catalog, chosen, key=rank)
    items = [SimulatedCriterion(id=cid, area=catalog.criterion(cid).area,
                                components=list(catalog.criterion(cid).components),
                                response=resp[cid], adoption=shares[cid],
                                prerequisites=list(catalog.criterion(cid).prerequisites))
             for cid in ordered]
    noun = "criterion" if len(items) == 1 else "criteria"
    return Simulation(
        catalog_version=catalog.version, current_tier=current.tier,
        current_percent=current.percent, target_tier=target.id, criteria=items,
        unlocked=unlocked, result=after,
        message=f"Meet {len(items)} more {noun} to reach {name(target)} "
                f"({after.percent}%, {len(after.components)} Standard components).")


def _adoption(catalog: Catalog, adoption: Mapping[str, float] | None) -> dict[str, float]:
    shares = {cid: 0.0 for cid in catalog.criterion_ids}
    for cid, share in (adoption or {}).items():
        if not catalog.has_criterion(cid):
            raise UnknownCriterionError(cid, f"adoption: unknown criterion {cid!r}")
        try:
            value = float(share)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"adoption of {cid} must be a share in 0..1, got {share!r}")
        shares[cid] = value
    return shares


def _prerequisites_first(catalog: Catalog, chosen: set[str], key) -> list[str]:
    """Rank order, except that a criterion never precedes a prerequisite it needs."""
    needs = {cid: _ancestors(catalog, cid) & chosen for cid in chosen}
    out: list[str] = []
    pending = sorted(chosen, key=key)
    while pending:
        nxt = next(c for c in pending if needs[c] <= set(out))
        out.append(nxt)
        pending.remove(nxt)
    return out


def _ancestors(catalog: Catalog, cid: str) -> set[str]:
    seen: set[str] = set()
    stack = list(catalog.criterion(cid).prerequisites)
    while stack:
        p = stack.pop()
        if p not in seen:
            seen.add(p)
            stack.extend(catalog.criterion(p).prerequisites)
    return seen


class _Search:
    """Exact, best-ranked minimum set for one target tier (see the module docstring)."""

    def __init__(self, catalog: Catalog, resp: Mapping[str, Response],
                 current: ScoreResult, target: Tier, rank_key) -> None:
        bit = {c.id: 1 << i for i, c in enumerate(catalog.components)}
        self.mask = {c.id: _or(bit[x] for x in c.components) for c in catalog.criteria}
        self.need_points = points_needed(len(catalog.criteria), target.min_percent)
        self.need_components = target.min_components
        met = set(current.met_ids)
        self.base_mask = _or(self.mask[c] for c in met)
        self.base_points = len(met)

        rest = [cid for cid in catalog.evaluation_order if cid not in met]  # prereqs first
        self.cost = {cid: int(resp[cid] is not Response.YES) for cid in rest}
        ranked = sorted((cid for cid in rest if self.cost[cid]), key=rank_key)
        self.weight = {cid: 1 << (len(ranked) - 1 - r) for r, cid in enumerate(ranked)}
        self.ranked = ranked

        self.pre = {cid: [p for p in catalog.criterion(cid).prerequisites if p not in met]
                    for cid in rest}
        linked = {cid for cid in rest if self.pre[cid]} | {p for cid in rest
                                                           for p in self.pre[cid]}
        self.linked = _narrow_order([cid for cid in rest if cid in linked], self.pre)
        position = {cid: i for i, cid in enumerate(self.linked)}
        self.last_use = {cid: -1 for cid in self.linked}
        for cid in self.linked:
            for p in self.pre[cid]:
                self.last_use[p] = max(self.last_use[p], position[cid])
        # Unlinked criteria not yet met are never answered YES (they would be met).
        self.singles = [cid for cid in ranked if cid not in linked]
        self._covers: dict[tuple[int, ...], object] = {}

    def choose(self) -> set[str]:
        table = self._linked_table()
        need_p = self.need_points
        cover = self._cover_from(0)
        options = []  # (total cost, linked weight, mask, singles to add)
        for (mask, pts), (cost, neg_weight) in table.items():
            t = cover(mask)
            extra = None if t is None else max(t, need_p - pts, 0)
            if extra is not None and extra <= len(self.singles):
                options.append((cost + extra, -neg_weight, mask, extra))
        assert options, "catalog check guarantees every tier is reachable"
        best = min(o[0] for o in options)
        weight = max(w | self._complete(mask, extra)
                     for total, w, mask, extra in options if total == best)
        return {cid for cid in self.ranked if weight & self.weight[cid]}

    def _linked_table(self) -> dict[tuple[int, int], tuple[int, int]]:
        """Best (cost, -weight) per (components, points) over the linked criteria."""
        cap = self.need_points
        State = tuple[frozenset[str], int, int]
        states: dict[State, tuple[int, int]] = {
            (frozenset(), self.base_mask, min(cap, self.base_points)): (0, 0)}
        for i, cid in enumerate(self.linked):
            nxt: dict[State, tuple[int, int]] = {}
            step_cost, step_weight = self.cost[cid], self.weight.get(cid, 0)
            for (live, mask, pts), (cost, neg_weight) in states.items():
                options = [(live, mask, pts, (cost, neg_weight))]
                if all(p in live for p in self.pre[cid]):
                    options.append((live | {cid}, mask | self.mask[cid], min(cap, pts + 1),
                                    (cost + step_cost, neg_weight - step_weight)))
                for live2, mask2, pts2, value in options:
                    # Forget criteria no later one depends on: keeps the state small.
                    key = (frozenset(x for x in live2 if self.last_use[x] > i), mask2, pts2)
                    if key not in nxt or value < nxt[key]:
                        nxt[key] = value
            states = nxt
        return {(mask, pts): value for (_live, mask, pts), value in states.items()}

    def _complete(self, mask: int, count: int) -> int:
        """Weight of the best-ranked ``count`` unlinked criteria that, with ``mask``,
        cover the components the target needs."""
        weight, slots = 0, count
        for i, cid in enumerate(self.singles):
            if slots == 0:
                break
            left = len(self.singles) - i - 1
            t = self._cover_from(i + 1)(mask | self.mask[cid])
            if t is not None and t <= slots - 1 and left >= slots - 1:
                weight |= self.weight[cid]
                mask |= self.mask[cid]
                slots -= 1
        assert slots == 0 and mask.bit_count() >= self.need_components, "simulator bug"
        return weight

    def _cover_from(self, start: int):
        groups = tuple(sorted({self.mask[c] for c in self.singles[start:]}))
        if groups not in self._covers:
            self._covers[groups] = _cover(list(groups), self.need_components)
        return self._covers[groups]


def _narrow_order(nodes: list[str], pre: Mapping[str, list[str]]) -> list[str]:
    """A prerequisite-respecting order that keeps few criteria "live" (still depended
    on) at a time: the dynamic programme's state grows with that number."""
    users_left = Counter(p for n in nodes for p in pre[n])
    done: set[str] = set()
    order: list[str] = []
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if all(p in done for p in pre[n])]

        def gain(n: str) -> int:
            freed = sum(1 for p in pre[n] if users_left[p] == 1)
            return freed - (1 if users_left[n] else 0)

        best = max(ready, key=gain)  # max() keeps the first of equals: stable
        pending.remove(best)
        done.add(best)
        order.append(best)
        for p in pre[best]:
            users_left[p] -= 1
    return order


def _cover(groups: list[int], need: int):
    """Memoised: fewest groups (component masks) to OR into ``mask`` so that it has at
    least ``need`` components; None if impossible."""
    memo: dict[int, int | None] = {}

    def touches(mask: int) -> int | None:
        if mask.bit_count() >= need:
            return 0
        if mask not in memo:
            found = [touches(mask | g) for g in groups if g & ~mask]
            found = [f for f in found if f is not None]
            memo[mask] = 1 + min(found) if found else None
        return memo[mask]

    return touches


def _or(values) -> int:
    out = 0
    for v in values:
        out |= v
    return out

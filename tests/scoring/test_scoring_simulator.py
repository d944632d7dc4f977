from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_catalogs import variant

from shared.scoring.engine import UnknownCriterionError, percent, score
from shared.scoring.simulator import next_tier, what_if

VALUES = ["YES", "IN_PROGRESS", "NO"]


def _rank(catalog, tier):
    return -1 if tier is None else [t.id for t in catalog.tiers].index(tier)


def _reaches(catalog, yes: set[str], target) -> bool:
    """Independent oracle: fixpoint of 'YES and every prerequisite met'."""
    met: set[str] = set()
    changed = True
    while changed:
        changed = False
        for c in catalog.criteria:
            if c.id in yes and c.id not in met and set(c.prerequisites) <= met:
                met.add(c.id)
                changed = True
    comps = {x for cid in met for x in catalog.criterion(cid).components}
    return (percent(len(met), len(catalog.criteria)) >= target.min_percent
            and len(comps) >= target.min_components)


def _applied(responses, sim):
    return {**responses, **{c.id: "YES" for c in sim.criteria}}


def _responses(catalog):
    return st.fixed_dictionaries({}, optional={cid: st.sampled_from(VALUES)
                                               for cid in catalog.criterion_ids})


def _adoption(catalog):
    # A coarse grid makes ties (broken by catalog order) frequent.
    return st.fixed_dictionaries({}, optional={
        cid: st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9]) for cid in catalog.criterion_ids})


# -- exact minimality, by brute force on the mini catalog ------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_minimal_and_best_ranked_by_brute_force(mini, data):
    responses = data.draw(_responses(mini))
    adoption = data.draw(_adoption(mini))
    sim = next_tier(mini, responses, adoption)
    current = score(mini, responses)
    if current.tier == "platinum":
        assert sim.target_tier is None and sim.criteria == []
        return
    target = mini.tiers[_rank(mini, current.tier) + 1]
    assert sim.target_tier == target.id

    chosen = {c.id for c in sim.criteria}
    yes = {cid for cid, v in responses.items() if v == "YES"}
    assert not chosen & yes
    after = score(mini, _applied(responses, sim))
    assert after == sim.result and _rank(mini, after.tier) >= _rank(mini, target.id)

    key = lambda cid: (-adoption.get(cid, 0.0), mini.position(cid))
    candidates = [cid for cid in mini.criterion_ids if cid not in yes]
    for size in range(len(chosen) + 1):
        winners = [set(s) for s in itertools.combinations(candidates, size)
                   if _reaches(mini, yes | set(s), target)]
        if size < len(chosen):
            assert not winners, f"{winners[0]} is smaller than {chosen}"
        else:
            assert chosen in winners
            # Among minimal sets, the most adopted practices win (lexicographic by rank).
            best = min(winners, key=lambda s: sorted(map(key, s)))
            assert chosen == best


# -- the 45 catalog: every element is needed, and the size is the known minimum ------------


def _cover_needed(catalog, met_comps: set[str], pool: list[str], need: int) -> int:
    if len(met_comps) >= need:
        return 0
    sets = {frozenset(catalog.criterion(c).components) for c in pool}
    for k in range(1, 5):
        for combo in itertools.combinations(sets, k):
            if len(met_comps.union(*combo)) >= need:
                return k
    raise AssertionError("unreachable")


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_45_every_element_needed(wwc, data):
    responses = data.draw(_responses(wwc))
    adoption = data.draw(_adoption(wwc))
    sim = next_tier(wwc, responses, adoption)
    current = score(wwc, responses)
    if sim.target_tier is None:
        assert current.tier == "platinum"
        return
    target = wwc.tier(sim.target_tier)
    yes = {cid for cid, v in responses.items() if v == "YES"}
    chosen = {c.id for c in sim.criteria}
    assert _reaches(wwc, yes | chosen, target)
    for cid in chosen:
        assert not _reaches(wwc, yes | (chosen - {cid}), target), f"{cid} is not needed"

    # No prerequisites in wwc-2019: the minimum is max(points short, components short).
    points = max(0, [23, 30, 39][_rank(wwc, target.id)] - current.met)
    pool = [cid for cid in wwc.criterion_ids if cid not in yes]
    cover = _cover_needed(wwc, set(current.components), pool, target.min_components)
    assert len(chosen) == max(points, cover)

    # Ranked most adopted first, ties in catalog order.
    keys = [(-c.adoption, wwc.position(c.id)) for c in sim.criteria]
    assert keys == sorted(keys)
    # No better-ranked criterion could have replaced a chosen one.
    for out in pool:
        if out in chosen:
            continue
        for c in sim.criteria:
            if (-adoption.get(out, 0.0), wwc.position(out)) < (-c.adoption, wwc.position(c.id)):
                assert not _reaches(wwc, yes | (chosen - {c.id}) | {out}, target)


# -- examples ------------------------------------------------------------------------------


def test_already_platinum(wwc):
    sim = next_tier(wwc, {cid: "YES" for cid in wwc.criterion_ids})
    assert (sim.current_tier, sim.target_tier, sim.criteria) == ("platinum", None, [])
    assert sim.message.startswith("Already Platinum")
    assert sim.result.tier == "platinum"


def test_from_nothing_catalog_order(wwc):
    sim = next_tier(wwc, {})
    assert sim.target_tier == "silver" and sim.current_tier is None
    assert [c.id for c in sim.criteria] == list(wwc.criterion_ids[:23])
    assert (sim.result.met, sim.result.percent, sim.result.tier) == (23, 51, "silver")
    assert sim.message == "Meet 23 more criteria to reach Silver (51%, 4 Standard components)."


def test_adoption_orders_the_path(wwc):
    responses = {cid: "YES" for cid in wwc.criterion_ids[:29]}  # 64%, silver
    adoption = {"SE4": 0.9, "RDC7": 0.8, "SE1": 0.8, "GM9": 0.95}  # GM9 already met
    sim = next_tier(wwc, responses, adoption)
    assert sim.target_tier == "gold"
    assert [(c.id, c.adoption) for c in sim.criteria] == [("SE4", 0.9)]
    assert sim.criteria[0].response == "NO" and sim.result.tier == "gold"


def test_breadth_forces_a_less_adopted_practice(wwc_data):
    data = dict(wwc_data)
    data["criteria"] = [dict(c, components=[["commit", "measure"][i % 2]]) if i < 30 else c
                        for i, c in enumerate(wwc_data["criteria"])]
    catalog = variant(data)
    responses = {cid: "YES" for cid in catalog.criterion_ids[:29]}  # 64%, 2 components
    adoption = {"PA7": 0.9, "REP1": 0.2, "REP2": 0.1}  # PA7 is measure-only in this variant
    sim = next_tier(catalog, responses, adoption)
    assert sim.current_tier == "silver" and sim.target_tier == "gold"
    # One criterion gives 30/45 = 67%, but it must bring a third component.
    assert [c.id for c in sim.criteria] == ["REP1"]


def test_prerequisites_are_included_and_listed_first(mini):
    sim = next_tier(mini, {}, {"B3": 0.9, "B2": 0.5})
    ids = [c.id for c in sim.criteria]
    assert {"B1", "B2", "B3"} <= set(ids)
    assert ids.index("B1") < ids.index("B2") < ids.index("B3")
    assert len(ids) == 6 and sim.result.tier == "silver"


def test_unlocked_yes_criteria_count_for_free(mini):
    responses = {"A4": "YES", "B2": "YES", "B3": "YES", "C3": "YES"}
    sim = next_tier(mini, responses)
    assert [c.id for c in sim.criteria] == ["A1", "A3", "B1"]
    assert sim.unlocked == ["A4", "B2", "B3"]
    assert (sim.result.met, sim.result.tier) == (6, "silver")


def test_bad_adoption(wwc):
    with pytest.raises(UnknownCriterionError):
        next_tier(wwc, {}, {"NOPE": 0.5})
    with pytest.raises(ValueError, match=r"0\.\.1"):
        next_tier(wwc, {}, {"DG1": 1.5})


def test_what_if_is_score(wwc):
    responses = {"DG1": "YES", "GM2": "IN_PROGRESS"}
    assert what_if(wwc, responses) == score(wwc, responses)

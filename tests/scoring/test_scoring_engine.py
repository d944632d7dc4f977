from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_catalogs import synthetic, variant

from shared.scoring.engine import (
    InvalidResponseError,
    Reason,
    ScoringInputError,
    UnknownCriterionError,
    decide_tier,
    percent,
    points_needed,
    score,
)
from shared.catalog import parse_catalog

VALUES = ["YES", "IN_PROGRESS", "NO"]


def yes(ids) -> dict[str, str]:
    return {cid: "YES" for cid in ids}


# -- tier boundaries on the 45-criterion catalog ----------------------------------------


@pytest.mark.parametrize("n_met,shown,tier", [
    (0, 0, None), (22, 49, None), (23, 51, "silver"), (29, 64, "silver"), (30, 67, "gold"),
    (38, 84, "gold"), (39, 87, "platinum"), (45, 100, "platinum"),
])
def test_tier_boundaries_45(wwc, n_met, shown, tier):
    # The first criteria in catalog order already span all four components (EVAL5 = act).
    result = score(wwc, yes(wwc.criterion_ids[:n_met]))
    assert (result.met, result.total, result.percent, result.tier) == (n_met, 45, shown, tier)
    if n_met >= 10:
        assert result.components == ["commit", "measure", "take_stock", "act"]


def test_points_needed_45(wwc):
    assert [points_needed(45, t.min_percent) for t in wwc.tiers] == [23, 30, 39]


def test_tier_explanations(wwc):
    assert score(wwc, {}).tier_explanation == "0% is below Silver's 51%; not certified"
    assert score(wwc, yes(wwc.criterion_ids[:30])).tier_explanation == (
        "67% meets Gold's 67% with 4 Standard components (3 required); Gold awarded")


# -- breadth --------------------------------------------------------------------------


def _remap(wwc_data, first: int, comps: list[str]):
    """wwc-2019 with its first ``first`` criteria mapped only to ``comps`` (cycled)."""
    data = dict(wwc_data)
    data["criteria"] = [dict(c, components=[comps[i % len(comps)]]) if i < first else c
                        for i, c in enumerate(wwc_data["criteria"])]
    return variant(data)


def test_breadth_lowers_gold_to_silver(wwc_data):
    catalog = _remap(wwc_data, 30, ["commit", "measure"])
    result = score(catalog, yes(catalog.criterion_ids[:30]))
    assert (result.percent, result.components, result.tier) == (67, ["commit", "measure"], "silver")
    assert result.tier_explanation == (
        "67% meets Gold's 67% but only 2 of the 3 Standard components required; Silver awarded")


def test_breadth_lowers_platinum_to_gold(wwc_data):
    catalog = _remap(wwc_data, 39, ["commit", "measure", "take_stock"])
    result = score(catalog, yes(catalog.criterion_ids[:39]))
    assert (result.percent, len(result.components), result.tier) == (87, 3, "gold")


def test_breadth_can_withhold_any_tier(wwc_data):
    catalog = _remap(wwc_data, 30, ["commit"])
    result = score(catalog, yes(catalog.criterion_ids[:30]))
    assert (result.percent, result.components, result.tier) == (67, ["commit"], None)
    assert result.tier_explanation == (
        "67% meets Gold's 67% but only 1 of the 3 Standard components required; not certified")


def test_breadth_in_real_catalog(wwc):
    # Everything except criteria touching "act": 33 criteria, 73%, three components.
    ids = [c.id for c in wwc.criteria if "act" not in c.components]
    result = score(wwc, yes(ids))
    assert (result.met, result.percent, result.tier) == (33, 73, "gold")
    assert "act" not in result.components


# -- prerequisites (mini catalog) ------------------------------------------------------


def test_prerequisite_chain_is_transitive(mini):
    result = score(mini, {"B2": "YES", "B3": "YES"})
    b2, b3 = result.criterion("B2"), result.criterion("B3")
    blocked = Reason.PREREQUISITE_NOT_MET
    assert (b2.met, b2.reason, b2.missing_prerequisites) == (False, blocked, ["B1"])
    # B2 is answered YES but earned no point, so B3 is blocked too.
    assert (b3.met, b3.reason, b3.missing_prerequisites) == (False, blocked, ["B2"])
    assert b3.explanation == "Not met: prerequisite B2 not met."
    assert result.met == 0

    result = score(mini, yes(["B1", "B2", "B3"]))
    assert [result.criterion(c).points for c in ("B1", "B2", "B3")] == [1, 1, 1]


def test_two_prerequisites(mini):
    result = score(mini, {"C3": "YES"})
    assert result.criterion("C3").missing_prerequisites == ["A1", "C1"]
    assert result.criterion("C3").explanation == "Not met: prerequisites A1, C1 not met."
    result = score(mini, {"C3": "YES", "A1": "YES", "C1": "IN_PROGRESS"})
    assert result.criterion("C3").missing_prerequisites == ["C1"]
    assert score(mini, yes(["C3", "A1", "C1"])).criterion("C3").met


def test_reasons(mini):
    result = score(mini, {"A1": "YES", "A2": "IN_PROGRESS"})
    a1, a2, a3 = (result.criterion(c) for c in ("A1", "A2", "A3"))
    assert (a1.reason, a1.points, a1.explanation) == (Reason.MET, 1, "Met: the response is YES.")
    assert (a2.reason, a2.response) == (Reason.RESPONSE_NOT_YES, "IN_PROGRESS")
    assert a2.explanation == "Not met: the response is IN_PROGRESS."
    assert a3.response == "NO"  # left out counts as NO


def test_mini_tiers_and_areas(mini):
    result = score(mini, yes(["A1", "A2", "A3", "A4", "B1", "B2"]))
    assert (result.met, result.total, result.percent, result.tier) == (6, 10, 60, "silver")
    assert [(a.id, a.met, a.total, a.percent) for a in result.areas] == [
        ("ALPHA", 4, 4, 100), ("BETA", 2, 3, 67), ("GAMMA", 0, 3, 0)]
    assert result.components == ["commit", "measure", "take_stock"]


# -- rounding ----------------------------------------------------------------------------


@pytest.mark.parametrize("part,whole,expected", [
    (1, 8, 13), (3, 8, 38), (5, 8, 63), (7, 8, 88), (1, 200, 1), (0, 8, 0), (8, 8, 100),
    (1, 3, 33), (2, 3, 67), (22, 45, 49), (23, 45, 51), (38, 45, 84), (1, 0, 0),
])
def test_percent_rounds_half_up(part, whole, expected):
    assert percent(part, whole) == expected


@given(st.integers(0, 5000), st.integers(1, 5000))
def test_percent_matches_decimal(part, whole):
    exact = (Decimal(100 * part) / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert percent(part, whole) == int(exact)


def test_tier_uses_the_shown_rounded_percent():
    # 5 of 8 = 62.5% is shown as 63%; Silver at 63% is awarded (round() would say 62).
    catalog = parse_catalog(synthetic(8, silver=63, gold=75, platinum=88))
    result = score(catalog, yes(["X1", "X2", "X3", "X4", "X5"]))
    assert (result.percent, result.tier) == (63, "silver")
    assert result.areas[0].percent == 63
    assert score(catalog, yes(["X1", "X2", "X3"])).areas[0].percent == 38  # 37.5


# -- bad input, determinism ------------------------------------------------------------------


def test_unknown_criterion(wwc):
    with pytest.raises(UnknownCriterionError) as info:
        score(wwc, {"DG1": "YES", "XX9": "YES"})
    assert info.value.criterion_id == "XX9" and "XX9" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", ["yes", "MAYBE", "", None, 1, True])
def test_invalid_response(wwc, value):
    with pytest.raises(InvalidResponseError) as info:
        score(wwc, {"GM3": value})
    assert info.value.criterion_id == "GM3" and "GM3" in str(info.value)
    assert isinstance(info.value, ScoringInputError)


def test_result_order_and_determinism(wwc):
    responses = {cid: VALUES[i % 3] for i, cid in enumerate(reversed(wwc.criterion_ids))}
    a, b = score(wwc, responses), score(wwc, dict(sorted(responses.items())))
    assert a == b and a.model_dump_json() == b.model_dump_json()
    assert [c.id for c in a.criteria] == list(wwc.criterion_ids)
    assert [x.id for x in a.areas] == [x.id for x in wwc.areas]


def test_decide_tier_direct(wwc):
    assert decide_tier(wwc, 90, 2)[0] == "silver"
    assert decide_tier(wwc, 90, 1)[0] is None


# -- properties -----------------------------------------------------------------------------


def _responses(catalog):
    return st.fixed_dictionaries({}, optional={cid: st.sampled_from(VALUES)
                                               for cid in catalog.criterion_ids})


def _rank(catalog, tier):
    return -1 if tier is None else [t.id for t in catalog.tiers].index(tier)


def _check_monotone(catalog, responses, cid):
    before = score(catalog, responses)
    after = score(catalog, {**responses, cid: "YES"})
    assert after.met >= before.met and after.percent >= before.percent
    assert _rank(catalog, after.tier) >= _rank(catalog, before.tier)
    assert set(after.components) >= set(before.components)
    assert set(after.met_ids) >= set(before.met_ids)
    for a, b in zip(after.areas, before.areas, strict=True):
        assert a.met >= b.met


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_yes_never_lowers_mini(mini, data):
    responses = data.draw(_responses(mini))
    _check_monotone(mini, responses, data.draw(st.sampled_from(mini.criterion_ids)))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_yes_never_lowers_45(wwc, data):
    responses = data.draw(_responses(wwc))
    _check_monotone(wwc, responses, data.draw(st.sampled_from(wwc.criterion_ids)))

"""Calibration's arithmetic (issue 21.2-21.3): the double-review sample is picked
reproducibly at the configured share, and the agreement figures equal a computation by
hand (kappa) and the libraries (alpha), with bootstrap intervals around them."""

from __future__ import annotations

import uuid

import krippendorff
import numpy as np
import pytest

from services.audit import calibration, domain
from services.audit.calibration import Audited, Pair


def test_the_sample_is_close_to_the_share_and_the_same_for_the_same_seed():
    ids = [uuid.UUID(int=i).hex for i in range(20_000)]
    picked = [s for s in ids if domain.picked_for_double_review("seed-a", s, 0.1)]
    assert abs(len(picked) / len(ids) - 0.1) < 0.01
    assert picked == [s for s in ids if domain.picked_for_double_review("seed-a", s, 0.1)]
    assert picked != [s for s in ids if domain.picked_for_double_review("seed-b", s, 0.1)]
    assert not any(domain.picked_for_double_review("seed-a", s, 0.0) for s in ids[:500])
    assert all(domain.picked_for_double_review("seed-a", s, 1.0) for s in ids[:500])


def test_differences_are_the_criteria_answered_differently():
    assert domain.differences({"A": "YES", "B": "NO", "C": "YES"}, {"A": "YES", "B": "YES", "C": "NO"}) == ["B", "C"]


# Ten criteria judged by two reviewers (first, second).
TABLE = [("YES", "YES"), ("YES", "YES"), ("YES", "NO"), ("NO", "NO"), ("NO", "NO"),
         ("IN_PROGRESS", "IN_PROGRESS"), ("IN_PROGRESS", "YES"), ("YES", "YES"), ("NO", "IN_PROGRESS"), ("YES", "YES")]


def kappa_by_hand(table):
    """p_o: observed agreement; p_e: the agreement expected from each reviewer's own mix."""
    n = len(table)
    p_o = sum(a == b for a, b in table) / n
    cats = {c for pair in table for c in pair}
    p_e = sum((sum(a == c for a, _ in table) / n) * (sum(b == c for _, b in table) / n) for c in cats)
    return (p_o - p_e) / (1 - p_e)


def test_kappa_equals_the_hand_computation_and_alpha_the_library():
    first, second = [a for a, _ in TABLE], [b for _, b in TABLE]
    # By hand: p_o = 7/10; first YES 5, NO 3, IN_PROGRESS 2; second YES 5, NO 3, IN_PROGRESS 2;
    # p_e = .25 + .09 + .04 = .38; kappa = (.7 - .38) / .62.
    assert kappa_by_hand(TABLE) == pytest.approx((0.7 - 0.38) / 0.62)
    assert calibration.kappa(first, second) == pytest.approx(kappa_by_hand(TABLE))
    m = calibration.confusion(first, second)
    assert calibration.kappa_of(m) == pytest.approx(kappa_by_hand(TABLE))  # the bootstrap's closed form
    data = np.array([[calibration._INDEX[a] for a in first], [calibration._INDEX[b] for b in second]], dtype=float)
    assert calibration.alpha(first, second) == pytest.approx(krippendorff.alpha(reliability_data=data,
                                                                              level_of_measurement="nominal"))
    assert calibration.alpha_of(m) == pytest.approx(calibration.alpha(first, second))
    # Undefined when every response is the same (chance agreement is certain).
    assert calibration.kappa(["YES"] * 3, ["YES"] * 3) is None and calibration.alpha(["YES"], ["YES"]) is None


def pairs_of(case: str, auditors: tuple[str, str], table, area: str = "DG") -> list[Pair]:
    return [Pair(case, f"{area}{i + 1}", area, *auditors, a, b) for i, (a, b) in enumerate(table)]


def test_the_report_groups_flags_and_bounds_its_figures():
    pairs = pairs_of("c1", ("ana", "ben"), TABLE[:5]) + pairs_of("c2", ("ben", "cleo"), TABLE[5:]) + \
        pairs_of("c3", ("cleo", "ana"), TABLE[:5])
    audited = [Audited("c1", "DG1", "DG", "ana", "YES", "NO"), Audited("c1", "DG2", "DG", "ana", "YES", "YES"),
               Audited("c2", "DG1", "DG", "ben", "NO", "NO")]
    report = calibration.measure(pairs, audited, threshold=0.6, resamples=500, seed=7)
    overall = report.of("overall")[0]
    both = [p for p in pairs]
    assert (overall.cases, overall.pairs) == (3, 15)
    assert overall.kappa == pytest.approx(kappa_by_hand([(p.first, p.second) for p in both]), abs=1e-4)
    assert overall.kappa_ci.low <= overall.kappa <= overall.kappa_ci.high
    assert overall.alpha_ci.low <= overall.alpha <= overall.alpha_ci.high
    # The same seed, the same intervals.
    again = calibration.measure(pairs, audited, threshold=0.6, resamples=500, seed=7).of("overall")[0]
    assert again.kappa_ci == overall.kappa_ci
    assert {r.key for r in report.of("auditor")} == {"ana", "ben", "cleo"}
    assert next(r for r in report.of("auditor") if r.key == "ana").pairs == 10
    dg1 = next(r for r in report.of("criterion") if r.key == "DG1")  # YES/YES twice, IN_PROGRESS/IN_PROGRESS
    assert (dg1.pairs, dg1.agreement, dg1.flagged) == (3, 1.0, False)
    dg3 = next(r for r in report.of("criterion") if r.key == "DG3")  # YES/NO twice, YES/YES once
    assert dg3.agreement == 0.3333 and dg3.kappa < 0.6 and dg3.flagged and dg3 in report.flagged
    assert (dg1.decided, dg1.changed, dg1.change_rate) == (2, 1, 0.5)
    assert overall.appeal_overturn_rate is None and overall.appeals == 0
    rows = calibration.csv_rows(report)
    assert rows[0][:6] == ["scope", "key", "cases", "pairs", "agreement", "kappa"] and len(rows) == len(report.rows) + 1


def test_an_empty_sample_gives_no_figures():
    report = calibration.measure([], [], threshold=0.6)
    assert report.cases == 0 and report.rows == []


def test_an_auditors_figures_cover_both_roles_with_their_own_responses_first():
    from sklearn.metrics import cohen_kappa_score

    # ana first on c1 (with ben), second on c2 (after cleo).
    pairs = pairs_of("c1", ("ana", "ben"), [("YES", "YES"), ("YES", "NO"), ("NO", "NO")]) + \
        pairs_of("c2", ("cleo", "ana"), [("NO", "YES"), ("NO", "NO"), ("YES", "YES")], area="GM")
    ana = next(r for r in calibration.measure(pairs, [], threshold=0.6, resamples=200).of("auditor")
               if r.key == "ana")
    own = [p.first if p.first_auditor == "ana" else p.second for p in pairs]
    other = [p.second if p.first_auditor == "ana" else p.first for p in pairs]
    expected = cohen_kappa_score(own, other)
    by_role = cohen_kappa_score([p.first for p in pairs], [p.second for p in pairs])
    assert expected != pytest.approx(by_role)  # the roles mixed would give another figure
    assert ana.kappa == pytest.approx(expected, abs=1e-4)
    assert (ana.cases, ana.pairs, ana.as_first, ana.as_second) == (2, 6, 3, 3)
    assert ana.agreement == pytest.approx(sum(a == b for a, b in zip(own, other, strict=True)) / 6, abs=1e-4)
    data = np.array([[calibration._INDEX[a] for a in own], [calibration._INDEX[b] for b in other]], dtype=float)
    assert ana.alpha == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"),
                                      abs=1e-4)


def unanimous(case: str) -> list[Pair]:
    return pairs_of(case, ("ana", "ben"), [("YES", "YES")] * 3)


def test_degenerate_resamples_are_counted_and_too_many_withhold_the_interval():
    split = pairs_of("c0", ("ana", "ben"), [("YES", "NO"), ("NO", "NO"), ("IN_PROGRESS", "YES")])
    # Two unanimous cases of three: a resample draws only them (every response YES, kappa
    # undefined) with probability (2/3)^3, about 30%: too many for an interval.
    row = calibration.measure(split + unanimous("c1") + unanimous("c2"), [], threshold=0.6,
                              resamples=1000, seed=3).of("overall")[0]
    assert row.kappa is not None and row.kappa_ci is None and row.alpha_ci is None
    assert 0.24 < row.kappa_degenerate / 1000 < 0.36 and 0.24 < row.alpha_degenerate / 1000 < 0.36
    # Three of six: (1/2)^6, under 2%: the interval is over the defined resamples, the
    # degenerate ones counted all the same.
    row = calibration.measure(split + pairs_of("c3", ("ana", "ben"), [("NO", "NO"), ("YES", "NO"), ("YES", "YES")])
                              + pairs_of("c4", ("ana", "ben"), [("NO", "IN_PROGRESS"), ("YES", "YES"), ("NO", "NO")])
                              + unanimous("c5") + unanimous("c6") + unanimous("c7"), [], threshold=0.6,
                              resamples=1000, seed=3).of("overall")[0]
    assert row.kappa_ci is not None and row.kappa_ci.low <= row.kappa <= row.kappa_ci.high
    assert 0 < row.kappa_degenerate < calibration.MAX_DEGENERATE_SHARE * 1000
    cells = dict(zip(calibration.CSV_COLUMNS, calibration.csv_rows(calibration.Report(0.6, 1000, 3, 1, [row]))[1], strict=True))
    assert cells["kappa_degenerate"] == str(row.kappa_degenerate)


def test_appeal_overturn_rates_per_criterion_area_and_the_appealed_reviewer():
    appealed = [calibration.Appealed("k1", "DG1", "DG", "ana", True),
                calibration.Appealed("k1", "DG2", "DG", "ana", False),
                calibration.Appealed("k2", "DG1", "DG", "ben", True),
                calibration.Appealed("k3", "GM1", "GM", "ben", False)]
    rows = {(r.scope, r.key): r for r in calibration.measure([], [], appealed, threshold=0.6).rows}
    assert (rows[("overall", "")].appeals, rows[("overall", "")].appeal_overturn_rate) == (4, 0.5)
    assert (rows[("criterion", "DG1")].appeals, rows[("criterion", "DG1")].appeal_overturn_rate) == (2, 1.0)
    assert rows[("criterion", "GM1")].appeal_overturn_rate == 0.0
    assert (rows[("area", "DG")].appeals, rows[("area", "DG")].appeal_overturn_rate) == (3, round(2 / 3, 4))
    assert rows[("auditor", "ana")].appeal_overturn_rate == 0.5 and rows[("auditor", "ben")].appeals == 2
    # Nothing appealed: no rate, not a rate of zero.
    plain = calibration.measure([], [calibration.Audited("k9", "DG1", "DG", "ana", "YES", "NO")], threshold=0.6)
    assert plain.of("overall")[0].appeal_overturn_rate is None

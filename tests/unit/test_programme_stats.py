"""The programme dashboard's statistics (services/reporting/programme_stats.py): pure and fast."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.reporting.programme_stats import (
    Change,
    Reviewed,
    Scored,
    StageEntered,
    Submitted,
    figures,
    histories,
    mean_one_decimal,
    percentile,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def walk(sid: str, *stages: tuple[str, float]) -> list[StageEntered]:
    return [StageEntered(sid, stage, at(h)) for stage, h in stages]


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([], 0.5, None),
    ([7.0], 0.5, 7.0),
    ([7.0], 0.9, 7.0),
    ([1.0, 3.0], 0.5, 2.0),  # an even count: the mean of the middle two
    ([4.0, 1.0, 3.0, 2.0], 0.5, 2.5),
    ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9, 9.1),
])
def test_percentile_interpolates_between_closest_ranks(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected) if expected is not None else percentile(values, q) is None


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=2, max_size=60))
def test_percentile_agrees_with_the_standard_library(values):
    assert percentile(values, 0.5) == pytest.approx(statistics.median(values))
    assert percentile(values, 0.9) == pytest.approx(statistics.quantiles(values, n=10, method="inclusive")[8])


def test_means_round_half_up_to_one_decimal():
    assert mean_one_decimal([1, 2]) == 1.5
    assert mean_one_decimal([0, 0, 1]) == 0.3  # 0.333..
    assert mean_one_decimal([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == 0.1  # 0.05 up
    assert mean_one_decimal([50, 51]) == 50.5


def test_the_submitted_stage_starts_when_the_submission_was_submitted():
    sub = Submitted("s1", "c1", "2026", at(0))
    history = histories(walk("s1", ("evidence_check", 2), ("in_review", 3)), {"s1": sub})
    assert history["s1"] == [("submitted", at(0)), ("evidence_check", at(2)), ("in_review", at(3))]
    # A submission with no status change yet is in its first stage.
    assert histories([], {"s1": sub})["s1"] == [("submitted", at(0))]


def test_time_in_each_stage_counts_finished_stays_and_sums_revisits():
    subs = [Submitted("a", "ca", "2026", at(0)), Submitted("b", "cb", "2026", at(0)),
            Submitted("c", "cc", "2026", at(0))]
    entered = [
        # a: review, a clarification, back to review, then done.
        *walk("a", ("evidence_check", 1), ("in_review", 2), ("clarification", 12), ("in_review", 36),
              ("scoring", 40), ("reporting", 41), ("debrief", 42), ("completed", 50)),
        # b: still in review (no finished stay there yet).
        *walk("b", ("evidence_check", 3), ("in_review", 4)),
        # c: withdrawn during evidence check.
        *walk("c", ("evidence_check", 1), ("withdrawn", 5)),
    ]
    f = figures(submitted=subs, scored=[], reviewed=[], entered=entered)
    stages = {s.stage: s for s in f.stages}
    assert "completed" not in stages and "withdrawn" not in stages
    assert stages["submitted"].stays == 3 and stages["submitted"].median_seconds == 3600.0
    assert stages["evidence_check"].stays == 3
    assert stages["evidence_check"].median_seconds == 3600.0  # of 1 h, 1 h and 4 h
    assert stages["evidence_check"].p90_seconds == pytest.approx(3600.0 + 0.8 * 3 * 3600.0)
    assert stages["in_review"].stays == 1 and stages["in_review"].median_seconds == (10 + 4) * 3600.0
    assert stages["in_review"].now == 1 and stages["clarification"].median_seconds == 24 * 3600.0
    assert stages["debrief"].median_seconds == 8 * 3600.0
    assert sum(s.now for s in f.stages) == 1
    [cycle] = f.applicants
    assert (cycle.cities, cycle.submissions, cycle.scored, cycle.withdrawn) == (3, 3, 0, 1)


def test_each_submission_counts_once_with_its_latest_score_and_review():
    subs = [Submitted("a", "ca", "2026", at(0)), Submitted("b", "cb", "2026", at(0)),
            Submitted("old", "ca", "2025", at(-9000))]
    scored = [Scored("a", None, 40, {"DG": 20, "OD": 60}, at(1)),
              Scored("a", "silver", 55, {"DG": 40, "OD": 70}, at(2)),  # a re-score replaces the first
              Scored("b", "gold", 70, {"DG": 80, "OD": 61}, at(2)),
              Scored("old", "platinum", 90, {"DG": 100}, at(-8000))]
    change = Change("DG1", "YES", "IN_PROGRESS", "outdated_evidence")
    reviewed = [Reviewed("a", (change, Change("GM1", "YES", "NO", "requirement_not_met")), at(1)),
                Reviewed("b", (change,), at(1)), Reviewed("b", (change,), at(0.5)),  # an older copy
                Reviewed("old", (change,), at(-8500))]
    f = figures(submitted=subs, scored=scored, reviewed=reviewed, entered=[], cycle="2026", area_order=["OD", "DG"])
    assert f.cycles == ["2026", "2025"]
    assert [(a.cycle, a.cities, a.scored, a.certified) for a in f.applicants] == [("2026", 2, 2, 2)]
    assert f.tiers == {"2026": {"silver": 1, "gold": 1}}
    assert [(a.area, a.average, a.scores) for a in f.areas] == [("OD", 65.5, 2), ("DG", 60.0, 2)]
    assert [(c.criterion, c.from_response, c.to_response, c.count) for c in f.changes] == [
        ("DG1", "YES", "IN_PROGRESS", 2), ("GM1", "YES", "NO", 1)]
    assert f.reasons == [("outdated_evidence", 2), ("requirement_not_met", 1)]

    every = figures(submitted=subs, scored=scored, reviewed=reviewed, entered=[])
    assert [(a.cycle, a.cities) for a in every.applicants] == [("2026", 2), ("2025", 1)]
    assert every.tiers["2025"] == {"platinum": 1}
    assert every.changes[0].count == 3


def test_facts_of_a_submission_never_received_are_left_out():
    f = figures(submitted=[], scored=[Scored("x", "gold", 70, {"DG": 1}, at(0))],
                reviewed=[Reviewed("x", (Change("DG1", "YES", "NO", "r"),), at(0))],
                entered=walk("x", ("in_review", 0)))
    assert (f.applicants, f.areas, f.changes, f.reasons, f.cycles) == ([], [], [], [], [])
    assert all(s.stays == 0 and s.now == 0 for s in f.stages)

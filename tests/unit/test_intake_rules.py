"""Intake's rules as plain functions: no server, no database, milliseconds each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake import domain
from services.intake.errors import (
    ClarificationAnswered,
    ClarificationPastDue,
    FileRejected,
    InvalidCycle,
    InvalidVersion,
    NotFound,
    SubmissionIncomplete,
    VersionRequired,
)
from shared.catalog.loader import load_catalog
from certification.contract import Stage

CATALOG = load_catalog("wwc-2019")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- eligibility ------------------------------------------------------------------------------


def test_an_eligible_city_has_no_reasons():
    assert domain.eligibility(CATALOG.eligibility, city="Springfield", population=116_250, country="US") == []


def test_the_minimum_population_is_inclusive():
    minimum = CATALOG.eligibility.min_population
    assert domain.eligibility(CATALOG.eligibility, city="X", population=minimum, country="US") == []
    [reason] = domain.eligibility(CATALOG.eligibility, city="X", population=minimum - 1, country="US")
    assert reason.kind == "population" and reason.params["minimum"] == minimum


def test_a_country_outside_the_programme_and_a_small_city_give_both_reasons():
    reasons = domain.eligibility(CATALOG.eligibility, city="Lyon", population=12_000, country="fr")
    assert [r.kind for r in reasons] == ["population", "country"]
    assert reasons[1].params["country"] == "FR"
    assert "Lyon has 12,000" in reasons[0].english() and "FR" in reasons[1].english()


# --- completeness -----------------------------------------------------------------------------


def _all(answer: str) -> dict[str, str]:
    return {c.id: answer for c in CATALOG.criteria}


def test_every_criterion_answered_and_every_yes_with_evidence_is_complete():
    evidence = {c.id: 1 for c in CATALOG.criteria}
    assert domain.missing_items(CATALOG, _all("YES"), evidence) == []
    assert domain.missing_items(CATALOG, _all("NO"), {}) == []


def test_a_yes_without_evidence_and_an_unanswered_criterion_are_named():
    answers = {**_all("NO"), "DG1": "YES"}
    del answers["SE4"]
    missing = domain.missing_items(CATALOG, answers, {})
    assert [(m.criterion_id, m.kind) for m in missing] == [("DG1", "needs_evidence"), ("SE4", "not_answered")]
    with pytest.raises(SubmissionIncomplete) as err:
        domain.ensure_complete(missing)
    assert [e["criterion_id"] for e in err.value.errors] == ["DG1", "SE4"]
    assert err.value.errors[0]["field"] == "responses.DG1.evidence"


def test_in_progress_needs_no_evidence():
    assert domain.missing_items(CATALOG, {**_all("NO"), "DG1": "IN_PROGRESS"}, {}) == []


# --- draft edits ------------------------------------------------------------------------------


@pytest.mark.parametrize("sent, expected", [('"3"', 3), ('W/"3"', 3), ("0", 0), (" 12 ", 12), (7, 7)])
def test_versions_are_read_from_the_body_or_if_match(sent, expected):
    assert domain.parse_version(sent) == expected


@pytest.mark.parametrize("sent", ['"-5"', "-1", -1, "abc", '""', str(2**63), 2**63, "1e3", "３"])
def test_negative_oversized_and_unreadable_versions_are_refused_the_same_way(sent):
    with pytest.raises(InvalidVersion):
        domain.parse_version(sent, source="If-Match")


def test_a_save_must_name_the_version_it_read():
    assert domain.required_version(4, None) == 4
    assert domain.required_version(None, '"2"') == 2
    with pytest.raises(VersionRequired):
        domain.required_version(None, None)


@pytest.mark.parametrize("cycle", ["2026", "2026-b", "fy2027.1"])
def test_cycle_names(cycle):
    assert domain.check_cycle(cycle) == cycle


@pytest.mark.parametrize("cycle", ["", "-2026", "20 26", "x" * 17, "../etc"])
def test_bad_cycle_names_are_refused(cycle):
    with pytest.raises(InvalidCycle):
        domain.check_cycle(cycle)


# --- evidence limits --------------------------------------------------------------------------


def test_the_file_limit_is_inclusive():
    domain.check_file_size(10 * domain.MB, 10 * domain.MB)
    with pytest.raises(FileRejected) as err:
        domain.check_file_size(10 * domain.MB + 1, 10 * domain.MB)
    assert (err.value.kind, err.value.code, err.value.params["limit_mb"]) == ("too_large", "file_too_large", "10")


def test_the_submission_quota_counts_what_is_stored():
    domain.check_quota(used=240 * domain.MB, size=10 * domain.MB, limit=250 * domain.MB)
    with pytest.raises(FileRejected) as err:
        domain.check_quota(used=240 * domain.MB, size=10 * domain.MB + 1, limit=250 * domain.MB)
    assert err.value.code == "submission_size_limit" and err.value.field == "file"


def test_every_file_rejection_kind_has_its_own_code():
    codes = {FileRejected(kind, "x").code for kind in FileRejected.KINDS}
    assert len(codes) == len(FileRejected.KINDS)


# --- clarification windows --------------------------------------------------------------------


def test_a_request_is_open_until_due_then_overdue():
    due = NOW + timedelta(days=14)
    state = domain.clarification_state
    assert state(due_at=due, now=NOW, answered=False, expired=False) == "open"
    assert state(due_at=due, now=due, answered=False, expired=False) == "overdue"
    assert state(due_at=due, now=due, answered=True, expired=False) == "answered"
    assert state(due_at=due, now=NOW, answered=False, expired=True) == "expired"


def test_a_request_is_answered_once_and_before_its_due_date():
    due = NOW + timedelta(days=14)
    domain.ensure_answerable("q1", due_at=due, now=NOW, answered=False, expired=False)
    with pytest.raises(ClarificationAnswered):
        domain.ensure_answerable("q1", due_at=due, now=NOW, answered=True, expired=False)
    with pytest.raises(ClarificationPastDue):
        domain.ensure_answerable("q1", due_at=due, now=due + timedelta(seconds=1), answered=False, expired=False)
    with pytest.raises(ClarificationPastDue):
        domain.ensure_answerable("q1", due_at=None, now=NOW, answered=False, expired=True)
    with pytest.raises(NotFound):
        domain.ensure_answerable("q9", due_at=None, now=NOW, answered=False, expired=False)


# --- withdrawal -------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(Stage))
def test_a_city_may_withdraw_only_before_scoring(stage):
    before_scoring = {Stage.SUBMITTED, Stage.EVIDENCE_CHECK, Stage.IN_REVIEW, Stage.CLARIFICATION}
    assert domain.can_withdraw(stage) == (stage in before_scoring)

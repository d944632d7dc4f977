"""Audit's pure rules (services/audit/domain.py): states, conflicts of interest, four eyes,
decision validation, round limits, the call agenda, the decisions hash and the trail chain."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.audit import domain
from services.audit.domain import (
    AgendaReason,
    CaseState,
    Conflict,
    ConflictScope,
    DecisionFacts,
    DecisionInput,
    Place,
    RoundFacts,
    RoundLimits,
    TrailEntry,
)
from services.audit.errors import (
    ConflictOfInterest,
    DecisionInvalid,
    FourEyes,
    InvalidInput,
    RoundInvalid,
    RoundLimitReached,
    RoundOpen,
    WrongState,
)
from shared.catalog.loader import load_catalog
from shared.contracts.vocabulary import Answer

REASONS = [r.id for r in load_catalog("wwc-2019").audit_reasons]
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SPRINGFIELD = Place(city_id="c-springfield", country="US", state="IL")


# --- states -----------------------------------------------------------------------------------


def test_states_allow_only_their_actions():
    domain.ensure_state("queued", domain.HOLDABLE, "claimed")
    with pytest.raises(WrongState) as exc:
        domain.ensure_state("signoff", domain.DECIDABLE, "decided")
    assert exc.value.params == {"state": "signoff", "action": "decided"}
    assert domain.state_after_claim("queued") == CaseState.IN_REVIEW
    assert domain.state_after_claim("clarification") == CaseState.CLARIFICATION
    assert domain.state_after_release("in_review") == CaseState.QUEUED
    assert domain.state_after_release("clarification") == CaseState.CLARIFICATION
    assert domain.state_after_round("auditor-1") == CaseState.IN_REVIEW
    assert domain.state_after_round(None) == CaseState.QUEUED


def test_sla_flags():
    due = NOW + timedelta(days=5)
    two_days = timedelta(days=2)
    assert domain.sla_flags(due, NOW, two_days) == (False, False)
    assert domain.sla_flags(due, due - timedelta(days=1), two_days) == (True, False)
    assert domain.sla_flags(due, due, two_days) == (False, True)
    assert domain.due_date(NOW, timedelta(days=21)) == NOW + timedelta(days=21)


# --- conflicts --------------------------------------------------------------------------------


def test_a_conflict_covers_its_city_its_state_or_its_country():
    city = domain.make_conflict("city", city_id="c-springfield")
    state = domain.make_conflict("state", country="us", state="Illinois")
    country = domain.make_conflict("country", country="US")
    assert state == Conflict(ConflictScope.STATE, country="US", state="US-IL") and state.key == "state:US-IL"
    assert city.key == "city:c-springfield" and country.key == "country:US"
    for c in (city, state, country):
        assert c.matches(SPRINGFIELD)
    elsewhere = Place(city_id="c-toronto", country="CA", state="ON")
    assert not any(c.matches(elsewhere) for c in (city, state, country))
    assert not state.matches(Place(city_id="c-x", country="US", state="OH"))
    # A state is a state of its country: "IL" names none in Mexico, and a code of another
    # country's is refused rather than read as a spelling.
    for other in (("MX", "IL"), ("CA", "US-IL")):
        with pytest.raises(InvalidInput):
            domain.make_conflict("state", country=other[0], state=other[1])
    # One province however the case spells it: ISO code, the code's tail, its name, accents or not.
    ontario = domain.make_conflict("state", country="CA", state="ON")
    assert ontario.key == "state:CA-ON"
    for spelled in ("Ontario", "ON", "CA-ON", "ontario "):
        assert ontario.matches(Place(city_id="c-toronto", country="CA", state=spelled)), spelled
    assert domain.make_conflict("state", country="CA", state="Quebec").matches(
        Place(city_id="c-montreal", country="CA", state="Québec"))
    assert not ontario.matches(Place(city_id="c-x", country="US", state="ON"))
    assert domain.conflict_with([country, city], SPRINGFIELD) == city  # the most specific is named


def test_conflicts_are_checked_and_named():
    with pytest.raises(ConflictOfInterest) as exc:
        domain.ensure_not_conflicted([domain.make_conflict("state", country="US", state="IL")], SPRINGFIELD,
                                     who="You", action="claim")
    assert exc.value.params["conflict"] == "state:US-IL" and exc.value.params["action"] == "claim"
    domain.ensure_not_conflicted([domain.make_conflict("country", country="CA")], SPRINGFIELD, who="You",
                                 action="claim")


@pytest.mark.parametrize(("scope", "kwargs", "field"), [
    ("planet", {}, "scope"), ("city", {}, "city_id"), ("state", {"country": "USA", "state": "IL"}, "country"),
    ("state", {"country": "US"}, "state"), ("country", {"country": "1"}, "country")])
def test_a_conflict_names_what_it_covers(scope, kwargs, field):
    with pytest.raises(InvalidInput) as exc:
        domain.make_conflict(scope, **kwargs)
    assert exc.value.field == field


# --- four eyes --------------------------------------------------------------------------------


def test_four_eyes():
    domain.ensure_four_eyes("auditor-2", reviewer="auditor-1", decided_by=["auditor-1"])
    with pytest.raises(FourEyes) as exc:
        domain.ensure_four_eyes("auditor-1", reviewer="auditor-1", decided_by=["auditor-1"])
    assert exc.value.params["role"] == "reviewer"
    # Someone who decided part of the case (and handed it back) cannot approve it either.
    with pytest.raises(FourEyes) as exc:
        domain.ensure_four_eyes("auditor-3", reviewer="auditor-1", decided_by=["auditor-1", "auditor-3"])
    assert exc.value.params["role"] == "decider"


# --- decisions --------------------------------------------------------------------------------


def test_a_confirmation_needs_nothing_and_carries_no_reason():
    checked = domain.check_decision(Answer.YES, DecisionInput(Answer.YES, explanation="  fine  "), REASONS)
    assert checked == DecisionInput(Answer.YES, explanation="fine")
    with pytest.raises(DecisionInvalid) as exc:
        domain.check_decision(Answer.YES, DecisionInput(Answer.YES, reason_code="requirement_not_met"), REASONS)
    assert exc.value.field == "reason_code"


def test_a_lowered_response_carries_reason_explanation_and_what_would_satisfy():
    with pytest.raises(DecisionInvalid) as exc:
        domain.check_decision(Answer.YES, DecisionInput(Answer.IN_PROGRESS), REASONS)
    assert [e["field"] for e in exc.value.errors] == ["reason_code", "explanation", "what_would_satisfy"]
    with pytest.raises(DecisionInvalid) as exc:
        domain.check_decision(Answer.YES, DecisionInput(Answer.NO, reason_code="made_up", explanation="x",
                                                        what_would_satisfy="y"), REASONS)
    assert exc.value.errors == [{"field": "reason_code", "reason": "'made_up' is not a reason code of this catalog"}]
    ok = domain.check_decision(Answer.YES, DecisionInput(
        Answer.IN_PROGRESS, reason_code="documents_not_submitted",
        explanation="The requested documents were not submitted for review.",
        what_would_satisfy="The data inventory, published."), REASONS)
    assert ok.reason_code == "documents_not_submitted"


def test_a_raised_response_needs_no_what_would_satisfy():
    checked = domain.check_decision(Answer.NO, DecisionInput(
        Answer.YES, reason_code="additional_evidence_provided", explanation="The 2026 policy was sent."), REASONS)
    assert checked.response == Answer.YES and domain.is_downgrade(Answer.YES, Answer.NO)
    assert not domain.is_downgrade(Answer.NO, Answer.IN_PROGRESS)


def test_texts_are_bounded():
    with pytest.raises(DecisionInvalid) as exc:
        domain.check_decision(Answer.YES, DecisionInput(Answer.NO, reason_code="requirement_not_met",
                                                        explanation="x" * 4001, what_would_satisfy="y"), REASONS)
    assert exc.value.field == "explanation"


def test_missing_decisions_keep_catalog_order():
    assert domain.missing_decisions(["DG1", "DG2", "DG3"], {"DG2"}) == ["DG1", "DG3"]


def facts(cid: str, response: str = "YES", **changes) -> DecisionFacts:
    base = DecisionFacts(criterion=cid, submitted="YES", response=response, reason_code="", explanation="",
                         what_would_satisfy="", evidence=(("ev-1", "ab" * 32),), decided_by="auditor-1", version=1)
    return dataclasses.replace(base, **changes)


def test_the_decisions_hash_pins_every_decision_and_not_their_order():
    one = [facts("DG1"), facts("DG2", "NO", reason_code="requirement_not_met")]
    digest = domain.decisions_hash(one)
    assert len(digest) == 64 and digest == domain.decisions_hash(list(reversed(one)))
    for changed in ([facts("DG1"), facts("DG2", "IN_PROGRESS", reason_code="requirement_not_met")],
                    [facts("DG1", version=2), one[1]],
                    [facts("DG1", evidence=(("ev-1", "cd" * 32),)), one[1]],
                    [facts("DG1", decided_by="auditor-2"), one[1]],
                    [facts("DG1")]):
        assert domain.decisions_hash(changed) != digest


# --- rounds -----------------------------------------------------------------------------------

LIMITS = RoundLimits(max_rounds=2, min_length=timedelta(days=1), max_length=timedelta(days=30))


def round_args(**overrides):
    args = dict(rounds_used=0, open_rounds=0, limits=LIMITS, criteria=["DG1", "DG1", "OD3"], known=["DG1", "OD3"],
                message="Please send the inventory.", due_at=NOW + timedelta(days=10), now=NOW)
    return {**args, **overrides}


def test_a_round_names_known_criteria_once():
    assert domain.check_round(**round_args()) == ["DG1", "OD3"]


def test_one_round_open_at_a_time_and_a_limited_number():
    with pytest.raises(RoundOpen):
        domain.check_round(**round_args(rounds_used=1, open_rounds=1))
    with pytest.raises(RoundLimitReached) as exc:
        domain.check_round(**round_args(rounds_used=2))
    assert exc.value.params == {"max_rounds": 2}


@pytest.mark.parametrize(("overrides", "field"), [
    ({"criteria": []}, "criteria"), ({"criteria": ["XX9"]}, "criteria"), ({"message": "  "}, "message"),
    ({"due_at": NOW + timedelta(hours=2)}, "due_at"), ({"due_at": NOW + timedelta(days=31)}, "due_at"),
    ({"due_at": datetime(2026, 4, 1)}, "due_at")])
def test_a_round_that_breaks_a_rule_says_which(overrides, field):
    with pytest.raises(RoundInvalid) as exc:
        domain.check_round(**round_args(**overrides))
    assert exc.value.field == field


# --- agenda -----------------------------------------------------------------------------------


def test_the_agenda_lists_every_flagged_criterion_in_catalog_order():
    order = ["DG1", "DG2", "DG3", "OD1", "OD3"]
    submitted = {"DG1": "YES", "DG2": "YES", "DG3": "NO", "OD1": "YES", "OD3": "IN_PROGRESS"}
    decided = {"DG1": "IN_PROGRESS", "DG2": "YES", "OD3": "IN_PROGRESS"}
    rounds = [RoundFacts(("OD3", "DG1"), "expired"), RoundFacts(("DG3",), "answered"), RoundFacts(("DG2",), "open")]
    items = domain.agenda(order, submitted, decided, rounds, {"DG1": 1, "DG2": 2, "OD3": 1})
    assert [(i.criterion, i.reasons) for i in items] == [
        ("DG1", (AgendaReason.CHANGED, AgendaReason.ROUND_UNANSWERED)),
        ("DG3", (AgendaReason.ROUND_ANSWERED,)),
        ("OD1", (AgendaReason.YES_WITHOUT_EVIDENCE,)),
        ("OD3", (AgendaReason.ROUND_UNANSWERED,)),
    ]
    assert items[0].submitted == "YES" and items[0].decided == "IN_PROGRESS"


# --- the trail chain --------------------------------------------------------------------------


def chain(n: int = 4) -> list[TrailEntry]:
    out, previous = [], domain.GENESIS
    for seq in range(1, n + 1):
        e = TrailEntry(chain="case:1", seq=seq, at=(NOW + timedelta(minutes=seq)).isoformat(), actor_id="auditor-1",
                       actor_role="auditor", action=f"action.{seq}", before={"n": seq - 1}, after={"n": seq},
                       reason="why", prev_hash=previous)
        e = dataclasses.replace(e, hash=domain.entry_hash(e))
        out.append(e)
        previous = e.hash
    return out


def test_an_intact_chain_verifies():
    entries = chain()
    report = domain.verify_chain("case:1", entries, head_seq=4, head_hash=entries[-1].hash)
    assert report.ok and report.records == 4 and report.head == entries[-1].hash


def test_an_edited_record_is_detected():
    entries = chain()
    entries[1] = dataclasses.replace(entries[1], after={"n": 99})
    report = domain.verify_chain("case:1", entries, head_seq=4, head_hash=chain()[-1].hash)
    assert report.problems == ["record 2 (action.2) was altered: its content does not match its hash"]


def test_a_record_edited_with_a_recomputed_hash_breaks_the_next_link():
    entries = chain()
    forged = dataclasses.replace(entries[1], reason="a better reason")
    entries[1] = dataclasses.replace(forged, hash=domain.entry_hash(forged))
    report = domain.verify_chain("case:1", entries, head_seq=4, head_hash=entries[-1].hash)
    assert report.problems == ["record 3 (action.3) does not link to record 2"]


def test_removed_records_are_detected_in_the_middle_and_at_the_end():
    entries = chain()
    middle = domain.verify_chain("case:1", [entries[0], *entries[2:]], head_seq=4, head_hash=entries[-1].hash)
    assert middle.problems[0] == "record 2 is missing (found 3 in its place)"
    last = domain.verify_chain("case:1", entries[:3], head_seq=4, head_hash=entries[-1].hash)
    assert last.problems == ["the chain holds 3 record(s) but 4 were written"]
    # Even with the count forged, the head's hash no longer matches.
    forged = domain.verify_chain("case:1", entries[:3], head_seq=3, head_hash=entries[-1].hash)
    assert forged.problems == ["the last record is not the one written last"]

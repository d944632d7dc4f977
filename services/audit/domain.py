"""Audit's rules, without I/O: the states of a case and what each allows, conflicts of
interest, the four-eyes rule, decision validation, clarification-round limits, the
review-call agenda, the hash of a set of decisions and the hash chain of the trail.

Use cases (`services/audit/*.py`) load rows, call these and write; every rule a person
could ask "why?" about lives here, tested in `tests/unit/test_audit_rules.py`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

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
from shared.catalog import places
from shared.contracts.vocabulary import Answer

# --- the case's states ------------------------------------------------------------------------


class CaseState(StrEnum):
    """queued -> in_review <-> clarification -> signoff -> completed; signoff may return the
    case to in_review; a withdrawn submission closes the case from any open state."""

    QUEUED = "queued"                # waiting for an auditor
    IN_REVIEW = "in_review"          # held by an auditor who decides criteria
    CLARIFICATION = "clarification"  # a round is open: the city is answering
    SIGNOFF = "signoff"              # decisions complete, waiting for a second auditor
    COMPLETED = "completed"          # approved (or confirmed automatically): the workflow moves on
    WITHDRAWN = "withdrawn"          # the city withdrew the submission


OPEN_STATES = frozenset({CaseState.QUEUED, CaseState.IN_REVIEW, CaseState.CLARIFICATION, CaseState.SIGNOFF})
# A holder may be set or changed (claim, assign, hand back) only before sign-off.
HOLDABLE = frozenset({CaseState.QUEUED, CaseState.IN_REVIEW, CaseState.CLARIFICATION})
# Decisions may be saved while the holder works, a round open or not.
DECIDABLE = frozenset({CaseState.IN_REVIEW, CaseState.CLARIFICATION})
CLOSED = frozenset({CaseState.COMPLETED, CaseState.WITHDRAWN})


def ensure_state(state: str, allowed: Iterable[CaseState], action: str) -> None:
    if CaseState(state) not in set(allowed):
        raise WrongState(f"The case is {state}: it cannot be {action} now.", state=str(state), action=action)


def state_after_claim(state: str) -> CaseState:
    """A held case is under review, unless the city is answering a round."""
    return CaseState.CLARIFICATION if state == CaseState.CLARIFICATION else CaseState.IN_REVIEW


def state_after_release(state: str) -> CaseState:
    return CaseState.CLARIFICATION if state == CaseState.CLARIFICATION else CaseState.QUEUED


def state_after_round(holder_id: str | None) -> CaseState:
    """When the last open round closes (answered or expired) the case is back with its
    holder, or back in the queue if it has none."""
    return CaseState.IN_REVIEW if holder_id else CaseState.QUEUED


def due_date(opened_at: datetime, sla: timedelta) -> datetime:
    return opened_at + sla


def sla_flags(due_at: datetime, now: datetime, remind_before: timedelta) -> tuple[bool, bool]:
    """(due soon, overdue) as the queue shows them."""
    return (not now >= due_at and now >= due_at - remind_before), now >= due_at


# --- conflicts of interest --------------------------------------------------------------------


class ConflictScope(StrEnum):
    CITY = "city"
    STATE = "state"      # a state or province of a country
    COUNTRY = "country"


@dataclass(frozen=True)
class Place:
    """Where a case's city is: what conflicts are matched against."""

    city_id: str
    country: str
    state: str = ""


def state_code(country: str, state: str) -> str:
    """A comparable state or province: its ISO 3166-2 code ("Ontario", "ON" and "CA-ON" are
    one province of Canada). A value that names no subdivision of the country (a legacy row
    the data migration could not place) is kept upper-cased, so it still equals itself."""
    code = places.normalise(country, state)
    return code if code is not None else (state or "").strip().upper()


@dataclass(frozen=True)
class Conflict:
    scope: ConflictScope
    city_id: str = ""
    country: str = ""
    state: str = ""

    @property
    def key(self) -> str:
        """One string per conflict: `city:<id>`, `state:US-IL` (ISO 3166-2), `country:MX`."""
        if self.scope == ConflictScope.CITY:
            return f"city:{self.city_id}"
        if self.scope == ConflictScope.STATE:
            return f"state:{self.state}"
        return f"country:{self.country}"

    def matches(self, place: Place) -> bool:
        if self.scope == ConflictScope.CITY:
            return self.city_id == place.city_id
        country = (place.country or "").strip().upper()
        if self.scope == ConflictScope.COUNTRY:
            return self.country == country
        return self.country == country and self.state == state_code(country, place.state)


def make_conflict(scope: str, *, city_id: str = "", country: str = "", state: str = "") -> Conflict:
    """A conflict as declared, checked and normalised (InvalidInput names the field)."""
    try:
        kind = ConflictScope(scope)
    except ValueError:
        raise InvalidInput("scope: one of city, state, country", field="scope",
                              reason="one of city, state, country") from None
    country = (country or "").strip().upper()
    if kind == ConflictScope.CITY:
        if not (city_id or "").strip():
            raise InvalidInput("city_id: name the city", field="city_id", reason="name the city")
        return Conflict(kind, city_id=city_id.strip())
    if len(country) != 2 or not country.isalpha():
        raise InvalidInput("country: a two-letter country code", field="country",
                              reason="a two-letter country code, e.g. US")
    if kind == ConflictScope.COUNTRY:
        return Conflict(kind, country=country)
    code = places.normalise(country, state)
    if not code:
        reason = (f"not a state or province of {country}: choose one of its ISO 3166-2 codes"
                  if code is None else "choose the state or province")
        raise InvalidInput(f"state: {reason}", field="state", reason=reason)
    return Conflict(kind, country=country, state=code)


def conflict_with(conflicts: Iterable[Conflict], place: Place) -> Conflict | None:
    """The first declared conflict that covers this place (city before state before country)."""
    order = {ConflictScope.CITY: 0, ConflictScope.STATE: 1, ConflictScope.COUNTRY: 2}
    for c in sorted(conflicts, key=lambda c: order[c.scope]):
        if c.matches(place):
            return c
    return None


def ensure_not_conflicted(conflicts: Iterable[Conflict], place: Place, *, who: str, action: str) -> None:
    found = conflict_with(conflicts, place)
    if found is not None:
        raise ConflictOfInterest(f"{who} declared a conflict of interest ({found.key}): they cannot {action} "
                                 f"this case.", conflict=found.key, scope=found.scope.value, action=action)


# --- four eyes --------------------------------------------------------------------------------


def ensure_four_eyes(approver: str, *, reviewer: str | None, decided_by: Iterable[str]) -> None:
    """The auditor who signs off is neither the one who submitted the case for sign-off
    nor anyone who decided one of its criteria: nobody approves their own decisions."""
    if approver == reviewer:
        raise FourEyes("The auditor who submitted the review cannot sign it off.", role="reviewer")
    if approver in set(decided_by):
        raise FourEyes("An auditor who decided criteria of this case cannot sign it off.", role="decider")


# --- decisions --------------------------------------------------------------------------------

LOWER_OR_EQUAL = {Answer.YES: 2, Answer.IN_PROGRESS: 1, Answer.NO: 0}
MAX_TEXT = 4000


def is_downgrade(submitted: Answer, response: Answer) -> bool:
    return LOWER_OR_EQUAL[Answer(response)] < LOWER_OR_EQUAL[Answer(submitted)]


@dataclass(frozen=True)
class DecisionInput:
    response: Answer
    reason_code: str = ""
    explanation: str = ""
    what_would_satisfy: str = ""


def check_decision(submitted: Answer, d: DecisionInput, reason_codes: Iterable[str]) -> DecisionInput:
    """A confirmation keeps the submitted response and carries no reason. A change carries
    a reason code of the submission's catalog, the explanation the city will read and, when
    it lowers the response, what would satisfy the criterion (the report's next step)."""
    errors: list[dict[str, str]] = []
    explanation = (d.explanation or "").strip()
    satisfy = (d.what_would_satisfy or "").strip()
    code = (d.reason_code or "").strip()
    if Answer(d.response) == Answer(submitted):
        if code:
            errors.append({"field": "reason_code", "reason": "a confirmation keeps the response: give no reason code"})
        if satisfy:
            errors.append({"field": "what_would_satisfy",
                           "reason": "a confirmation keeps the response: nothing is missing"})
    else:
        if not code:
            errors.append({"field": "reason_code", "reason": "a change needs a reason code"})
        elif code not in set(reason_codes):
            errors.append({"field": "reason_code", "reason": f"{code!r} is not a reason code of this catalog"})
        if not explanation:
            errors.append({"field": "explanation", "reason": "explain the change to the city"})
        if is_downgrade(submitted, d.response) and not satisfy:
            errors.append({"field": "what_would_satisfy",
                           "reason": "say what would satisfy the criterion (the missing document or practice)"})
    for name, value in (("explanation", explanation), ("what_would_satisfy", satisfy)):
        if len(value) > MAX_TEXT:
            errors.append({"field": name, "reason": f"at most {MAX_TEXT} characters"})
    if errors:
        raise DecisionInvalid("; ".join(f"{e['field']}: {e['reason']}" for e in errors), errors=errors)
    return DecisionInput(response=Answer(d.response), reason_code=code, explanation=explanation,
                         what_would_satisfy=satisfy)


def missing_decisions(criteria: Sequence[str], decided: Iterable[str]) -> list[str]:
    done = set(decided)
    return [c for c in criteria if c not in done]


@dataclass(frozen=True)
class DecisionFacts:
    """What a decision says, as hashed and approved."""

    criterion: str
    submitted: str
    response: str
    reason_code: str
    explanation: str
    what_would_satisfy: str
    evidence: tuple[tuple[str, str], ...]  # (evidence id, sha256 or url) looked at
    decided_by: str
    version: int


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def decisions_hash(decisions: Iterable[DecisionFacts]) -> str:
    """SHA-256 of the whole set of decisions in a canonical form: the sign-off records it,
    and an approval is refused if the set changed since the approver read it."""
    rows = [
        {"criterion": d.criterion, "submitted": str(d.submitted), "response": str(d.response),
         "reason_code": d.reason_code, "explanation": d.explanation, "what_would_satisfy": d.what_would_satisfy,
         "evidence": sorted([list(e) for e in d.evidence]), "decided_by": d.decided_by, "version": d.version}
        for d in sorted(decisions, key=lambda d: d.criterion)
    ]
    return hashlib.sha256(canonical_json(rows)).hexdigest()


# --- clarification rounds ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoundLimits:
    max_rounds: int
    min_length: timedelta
    max_length: timedelta


def check_round(*, rounds_used: int, open_rounds: int, limits: RoundLimits, criteria: Sequence[str],
                known: Iterable[str], message: str, due_at: datetime, now: datetime) -> list[str]:
    """A round names known criteria (each once), says what is asked, is due between the
    shortest and the longest round from now, and fits in the case's allowance: one open
    at a time, at most `max_rounds` per case. Returns the criteria, deduplicated."""
    if open_rounds:
        raise RoundOpen("A clarification round is open: wait for the answer or its due date.")
    if rounds_used >= limits.max_rounds:
        raise RoundLimitReached(f"This case has had its {limits.max_rounds} clarification round(s).",
                                max_rounds=limits.max_rounds)
    errors: list[dict[str, str]] = []
    known_set = set(known)
    unique = list(dict.fromkeys(c.strip() for c in criteria if c and c.strip()))
    if not unique:
        errors.append({"field": "criteria", "reason": "name at least one criterion"})
    unknown = [c for c in unique if c not in known_set]
    if unknown:
        errors.append({"field": "criteria", "reason": f"not criteria of this submission: {', '.join(unknown)}"})
    if not message.strip():
        errors.append({"field": "message", "reason": "say what the city should send or explain"})
    elif len(message) > MAX_TEXT:
        errors.append({"field": "message", "reason": f"at most {MAX_TEXT} characters"})
    if due_at.tzinfo is None:
        errors.append({"field": "due_at", "reason": "give a time zone"})
    elif due_at < now + limits.min_length:
        errors.append({"field": "due_at", "reason": f"at least {_days(limits.min_length)} day(s) from now"})
    elif due_at > now + limits.max_length:
        errors.append({"field": "due_at", "reason": f"at most {_days(limits.max_length)} day(s) from now"})
    if errors:
        raise RoundInvalid("; ".join(f"{e['field']}: {e['reason']}" for e in errors), errors=errors)
    return unique


def _days(length: timedelta) -> str:
    return f"{length.total_seconds() / 86400:g}"


# --- the review call's agenda -----------------------------------------------------------------


class AgendaReason(StrEnum):
    CHANGED = "changed"                          # the auditor changed the response
    ROUND_UNANSWERED = "round_unanswered"        # asked in a round that expired
    ROUND_ANSWERED = "round_answered"            # the city answered a round: walk through it
    YES_WITHOUT_EVIDENCE = "yes_without_evidence"


@dataclass(frozen=True)
class AgendaItem:
    criterion: str
    reasons: tuple[AgendaReason, ...]
    submitted: str
    decided: str | None = None


@dataclass(frozen=True)
class RoundFacts:
    criteria: tuple[str, ...]
    status: str  # open | answered | expired


def agenda(order: Sequence[str], submitted: Mapping[str, str], decided: Mapping[str, str],
           rounds: Iterable[RoundFacts], evidence_count: Mapping[str, int]) -> list[AgendaItem]:
    """What to talk about on the review call, in catalog order: every criterion flagged so far."""
    reasons: dict[str, list[AgendaReason]] = {}
    for cid, response in decided.items():
        if cid in submitted and response != submitted[cid]:
            reasons.setdefault(cid, []).append(AgendaReason.CHANGED)
    for r in rounds:
        kind = {"expired": AgendaReason.ROUND_UNANSWERED, "answered": AgendaReason.ROUND_ANSWERED}.get(r.status)
        for cid in r.criteria if kind else ():
            if kind not in reasons.setdefault(cid, []):
                reasons[cid].append(kind)
    for cid, response in submitted.items():
        if response == Answer.YES and not evidence_count.get(cid):
            reasons.setdefault(cid, []).append(AgendaReason.YES_WITHOUT_EVIDENCE)
    position = {cid: i for i, cid in enumerate(order)}
    return [AgendaItem(criterion=cid, reasons=tuple(rs), submitted=str(submitted.get(cid, "")),
                       decided=decided.get(cid))
            for cid, rs in sorted(reasons.items(), key=lambda kv: position.get(kv[0], len(position)))]


# --- the trail: append-only records chained by hashes -------------------------------------------

GENESIS = "0" * 64


@dataclass(frozen=True)
class TrailEntry:
    """One record as hashed: who, what, before, after, why, when, and its place in the chain."""

    chain: str
    seq: int
    at: str           # ISO 8601, UTC
    actor_id: str
    actor_role: str
    action: str
    before: Any
    after: Any
    reason: str
    prev_hash: str
    hash: str = ""

    def body(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "at": self.at, "actor_id": self.actor_id,
                "actor_role": self.actor_role, "action": self.action, "before": self.before, "after": self.after,
                "reason": self.reason, "prev_hash": self.prev_hash}


def entry_hash(entry: TrailEntry) -> str:
    """SHA-256 of the previous record's hash and this record's canonical body: editing,
    removing or inserting a record breaks every later link."""
    return hashlib.sha256(canonical_json(entry.body())).hexdigest()


@dataclass
class ChainReport:
    chain: str
    records: int
    head: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(chain: str, entries: Sequence[TrailEntry], *, head_seq: int | None,
                 head_hash: str | None) -> ChainReport:
    """Check a chain record by record (sequence, link, hash) and against its head (the
    last sequence number and hash kept apart from the records): an edited record fails its
    hash, a removed or inserted one breaks the sequence or a link, a removed last record
    no longer matches the head."""
    problems: list[str] = []
    previous = GENESIS
    for expected_seq, e in enumerate(sorted(entries, key=lambda e: e.seq), start=1):
        if e.seq != expected_seq:
            problems.append(f"record {expected_seq} is missing (found {e.seq} in its place)")
            break
        if e.prev_hash != previous:
            problems.append(f"record {e.seq} ({e.action}) does not link to record {e.seq - 1}")
        if entry_hash(e) != e.hash:
            problems.append(f"record {e.seq} ({e.action}) was altered: its content does not match its hash")
        previous = e.hash
    count = len(entries)
    if head_seq is not None and head_seq != count:
        problems.append(f"the chain holds {count} record(s) but {head_seq} were written")
    elif head_hash is not None and count and head_hash != previous:
        problems.append("the last record is not the one written last")
    return ChainReport(chain=chain, records=count, head=previous, problems=problems)

"""Audit's rules, without I/O: the states of a case and what each allows, conflicts of
interest, the four-eyes rule, decision validation, clarification-round limits, the
review-call agenda, the hash of a set of decisions and the hash chain of the trail.

Use cases (`services/audit/*.py`) load rows, call these and write; every rule a person
could ask "why?" about lives here, tested in `tests/unit/test_audit_rules.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
# A holder may be set (claim, assign) only before sign-off.
HOLDABLE = frozenset({CaseState.QUEUED, CaseState.IN_REVIEW, CaseState.CLARIFICATION})
# The holder may hand a case back in any open state: awaiting sign-off too, which withdraws
# the request. Without it a case whose every auditor took part (so nobody may approve or
# return it) would wait for ever in sign-off; back in the queue, anyone may pick it up.
RELEASABLE = HOLDABLE | {CaseState.SIGNOFF}
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
    """Back to the queue (a pending sign-off request is withdrawn), or still waiting for
    the city if a round is open."""
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


def ensure_four_eyes(approver: str, *, reviewer: str | None, decided_by: Iterable[str],
                     requested_by: Iterable[str] = ()) -> None:
    """The auditor who signs off took no part in the review: not the one who submitted it
    for sign-off (now or at any earlier request), and nobody who decided any of its
    criteria at any time — a superseded decision counts as much as the latest one, so
    `decided_by` is the case's whole history of deciders, not the current decisions'."""
    if approver == reviewer or approver in set(requested_by):
        raise FourEyes("An auditor who submitted this review for sign-off cannot sign it off.", role="reviewer")
    if approver in set(decided_by):
        raise FourEyes("An auditor who decided criteria of this case cannot sign it off.", role="decider")


def picked_for_double_review(seed: str, submission_id: str, share: float) -> bool:
    """Whether a case is in the blind double-review sample: sha256(seed:submission) read as
    a number in [0, 1) below the share. Reproducible (the same seed picks the same cases)
    and independent of the order cases arrive in."""
    digest = hashlib.sha256(f"{seed}:{submission_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def differences(first: Mapping[str, str], second: Mapping[str, str]) -> list[str]:
    """The criteria the two reviewers of a double-reviewed case answered differently."""
    return sorted(c for c in first if c in second and first[c] != second[c])


def took_part(*, deciders: Iterable[str], requesters: Iterable[str]) -> list[str]:
    """Everyone who may not sign the review off, sorted (what the case keeps and shows)."""
    return sorted(set(deciders) | set(requesters))


# --- who can move a case: the rules of claim, assign, release, decide, request, return and
# approve as one pure model. The use cases enforce each rule (with a conditional UPDATE);
# this model states them together so a property test can walk every sequence of actions
# and check that no reachable state is one nobody can leave (tests/unit/test_review_liveness.py).


class Move(StrEnum):
    CLAIM = "claim"
    ASSIGN = "assign"        # to the auditor named by `target`
    RELEASE = "release"
    DECIDE = "decide"
    REQUEST = "request"      # sign-off
    RETURN = "return"
    APPROVE = "approve"


@dataclass(frozen=True)
class Review:
    """What the rules look at: the case's state, holder, pending reviewer, everyone who
    ever decided a criterion or submitted it for sign-off, and whether all is decided."""

    state: CaseState = CaseState.QUEUED
    holder: str | None = None
    reviewer: str | None = None
    deciders: frozenset[str] = frozenset()
    requesters: frozenset[str] = frozenset()
    complete: bool = False  # every criterion has a decision (none changed since decided)


def move(review: Review, actor: str, action: Move, *, is_auditor: bool = True,
         target: str | None = None) -> Review:
    """The review after `actor` does `action`, or the domain error that refuses it."""
    if not is_auditor:
        raise WrongState("Only auditors act on review cases.", state=str(review.state), action=str(action))
    s = review.state
    if action in (Move.CLAIM, Move.ASSIGN):
        ensure_state(s, HOLDABLE, "claimed")
        if review.holder is not None:
            raise WrongState("The case is held.", state=str(s), action=str(action))
        holder = actor if action == Move.CLAIM else (target or actor)
        return replace(review, holder=holder, state=state_after_claim(s))
    if action == Move.RELEASE:
        ensure_state(s, RELEASABLE, "handed back")
        if review.holder != actor:
            raise WrongState("Only the holder hands a case back.", state=str(s), action=str(action))
        return replace(review, holder=None, reviewer=None, state=state_after_release(s))
    if action == Move.DECIDE:
        ensure_state(s, DECIDABLE, "decided")
        if review.holder != actor:
            raise WrongState("Only the holder decides.", state=str(s), action=str(action))
        return replace(review, deciders=review.deciders | {actor}, complete=True)
    if action == Move.REQUEST:
        ensure_state(s, {CaseState.IN_REVIEW}, "submitted for sign-off")
        if review.holder != actor or not review.complete:
            raise WrongState("Only the holder submits a complete review.", state=str(s), action=str(action))
        return replace(review, state=CaseState.SIGNOFF, reviewer=actor, requesters=review.requesters | {actor})
    if action in (Move.RETURN, Move.APPROVE):
        ensure_state(s, {CaseState.SIGNOFF}, "signed off")
        ensure_four_eyes(actor, reviewer=review.reviewer, decided_by=review.deciders, requested_by=review.requesters)
        if action == Move.RETURN:
            return replace(review, state=CaseState.IN_REVIEW)
        return replace(review, state=CaseState.COMPLETED)
    raise ValueError(action)  # pragma: no cover


def movers(review: Review, auditors: Iterable[str]) -> list[tuple[str, Move]]:
    """Who could move the review on, and how (empty only once it is closed)."""
    out = []
    for actor in auditors:
        for action in Move:
            try:
                move(review, actor, action)
            except (WrongState, FourEyes):
                continue
            out.append((actor, action))
    return out


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


# --- what a decision judged: each criterion's material, versioned ------------------------------


@dataclass(frozen=True)
class MaterialChange:
    """One version of what a criterion's decision looks at: as submitted (version 1, with
    the response) or what the city sent for it in a clarification round."""

    version: int
    round: int | None  # None: as submitted
    at: str | None     # when the city sent it (ISO 8601); None for the submission
    response: str      # the response as submitted ("" for a round's answer, which keeps it)
    narrative: str
    evidence: tuple[tuple[str, str, str], ...]  # (id, name, SHA-256 or address)


@dataclass(frozen=True)
class Material:
    criterion: str
    changes: tuple[MaterialChange, ...]

    @property
    def version(self) -> int:
        return len(self.changes)

    @property
    def fingerprint(self) -> str:
        """SHA-256 over every version so far: what a decision records as judged."""
        return hashlib.sha256(canonical_json([
            {"version": c.version, "round": c.round, "at": c.at, "response": c.response, "narrative": c.narrative,
             "evidence": sorted([list(e) for e in c.evidence])} for c in self.changes])).hexdigest()

    def since(self, version: int) -> list[MaterialChange]:
        return [c for c in self.changes if c.version > version]


def material(criterion: str, *, response: str, narrative: str, evidence: Iterable[tuple[str, str, str]],
             answers: Iterable[tuple[int, str | None, str, Iterable[tuple[str, str, str]]]] = ()) -> Material:
    """The criterion's versions: the submission, then each round's answer on it (in round order)."""
    changes = [MaterialChange(1, None, None, str(response), narrative, tuple(evidence))]
    for number, at, text, items in sorted(answers, key=lambda a: a[0]):
        changes.append(MaterialChange(len(changes) + 1, number, at, "", text, tuple(items)))
    return Material(criterion, tuple(changes))


def changed_since_decided(m: Material, *, judged_version: int, judged_fingerprint: str) -> bool:
    """Newer answers or evidence than the decision judged. A decision saved before versions
    were kept (no fingerprint) is compared by version: anything past the submission counts
    as new, so it is looked at again rather than trusted."""
    if judged_fingerprint:
        return judged_fingerprint != m.fingerprint
    return judged_version < m.version


def bulk_confirmable(m: Material, *, in_open_round: bool) -> bool:
    """"Confirm the remaining as submitted" covers only a criterion nobody asked about and
    the city never changed: one under clarification, or with new answers or evidence, is
    decided on its own."""
    return not in_open_round and m.version == 1


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


# --- the trail: append-only records chained by keyed hashes ------------------------------------

GENESIS = "0" * 64


@dataclass(frozen=True)
class TrailEntry:
    """One record as sealed: who, what, before, after, why, when, its place in the chain
    and the id of the key that sealed it."""

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
    key_id: str = ""  # "": written before the trail was keyed

    def body(self) -> dict[str, Any]:
        body = {"chain": self.chain, "seq": self.seq, "at": self.at, "actor_id": self.actor_id,
                "actor_role": self.actor_role, "action": self.action, "before": self.before, "after": self.after,
                "reason": self.reason, "prev_hash": self.prev_hash}
        if self.key_id:  # the key id is sealed too: a record cannot be moved to another key
            body["key_id"] = self.key_id
        return body


@dataclass(frozen=True)
class Keyring:
    """The trail's keys, oldest first: new records are sealed with the newest, every record
    verifies with the key its id names. The keys live outside audit's database (a setting
    or a secret file), so someone who can rewrite the tables cannot reseal a record."""

    keys: tuple[tuple[str, bytes], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("the trail needs at least one key")
        ids = [k for k, _ in self.keys]
        if len(set(ids)) != len(ids) or any(not k or len(k) > 40 for k in ids):
            raise ValueError("trail key ids are unique, 1 to 40 characters")

    @property
    def current(self) -> tuple[str, bytes]:
        return self.keys[-1]

    def get(self, key_id: str) -> bytes | None:
        return dict(self.keys).get(key_id)


def parse_keys(text: str) -> Keyring:
    """`id=secret` pairs separated by commas or new lines, oldest first (blank lines and
    `#` comments ignored): the format of `WWC_AUDIT_TRAIL_KEYS` and of the key file."""
    pairs = []
    for item in text.replace(",", "\n").splitlines():
        item = item.strip()
        if not item or item.startswith("#"):
            continue
        key_id, sep, secret = item.partition("=")
        if not sep or len(secret.strip()) < 16:
            raise ValueError("each trail key is `id=secret` with a secret of at least 16 characters")
        pairs.append((key_id.strip(), secret.strip().encode()))
    return Keyring(tuple(pairs))


def entry_hash(entry: TrailEntry, key: bytes | None = None) -> str:
    """HMAC-SHA256, under the record's key, of its canonical body (which includes the
    previous record's hash): editing, removing or inserting a record breaks every later
    link, and without the key nobody can compute a record's seal, so a rewritten chain
    cannot be made consistent again. Without a key: the plain SHA-256 of records written
    before the trail was keyed."""
    body = canonical_json(entry.body())
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def seal(entry: TrailEntry, keys: Keyring) -> TrailEntry:
    """The entry sealed with the newest key."""
    key_id, key = keys.current
    keyed = replace(entry, key_id=key_id, hash="")
    return replace(keyed, hash=entry_hash(keyed, key))


@dataclass(frozen=True)
class Checkpoint:
    """A chain's head as published outside audit (`wwc.audit.trail.checkpointed`, kept in
    reporting's ledger): the record at `seq` had hash `head`."""

    seq: int
    head: str


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
                 head_hash: str | None, keys: Keyring | None = None,
                 checkpoints: Iterable[Checkpoint] = ()) -> ChainReport:
    """Check a chain record by record (sequence, link, seal), against its head (kept apart
    from the records) and against the checkpoints published outside audit:

    - an edited record fails its seal; a record resealed without the key too;
    - a removed or inserted record breaks the sequence or a link;
    - a removed last record no longer matches the head;
    - a removed tail with the head rolled back matches the head, but not the published
      checkpoint that saw a later record (or a different one at that place).
    Without `keys`, only the unkeyed records' hashes are checked (a keyed record is then
    reported as unverifiable rather than silently trusted)."""
    problems: list[str] = []
    previous = GENESIS
    by_seq: dict[int, str] = {}
    keyed_seen = False
    for expected_seq, e in enumerate(sorted(entries, key=lambda e: e.seq), start=1):
        if e.seq != expected_seq:
            problems.append(f"record {expected_seq} is missing (found {e.seq} in its place)")
            break
        if e.prev_hash != previous:
            problems.append(f"record {e.seq} ({e.action}) does not link to record {e.seq - 1}")
        if e.key_id:
            keyed_seen = True
            key = keys.get(e.key_id) if keys else None
            if key is None:
                problems.append(f"record {e.seq} ({e.action}) was sealed with key {e.key_id!r}, which is not "
                                f"configured: it cannot be verified")
            elif not hmac.compare_digest(entry_hash(e, key), e.hash):
                problems.append(f"record {e.seq} ({e.action}) was altered: its content does not match its seal")
        elif keys is not None and keyed_seen:
            problems.append(f"record {e.seq} ({e.action}) is not sealed with a key, after sealed records")
        elif entry_hash(e) != e.hash:
            problems.append(f"record {e.seq} ({e.action}) was altered: its content does not match its hash")
        elif keys is not None:
            problems.append(f"record {e.seq} ({e.action}) is not sealed with a key (written before the trail "
                            f"was keyed: run `wwc audit seal-trail` once)")
        by_seq[e.seq] = e.hash
        previous = e.hash
    count = len(entries)
    if head_seq is not None and head_seq != count:
        problems.append(f"the chain holds {count} record(s) but {head_seq} were written")
    elif head_hash is not None and count and head_hash != previous:
        problems.append("the last record is not the one written last")
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        if cp.seq not in by_seq:
            problems.append(f"record {cp.seq} was published as a checkpoint but is gone: the chain was rolled back "
                            f"to {count} record(s)")
            break
        if by_seq[cp.seq] != cp.head:
            problems.append(f"record {cp.seq} is not the one published as a checkpoint")
            break
    return ChainReport(chain=chain, records=count, head=previous, problems=problems)

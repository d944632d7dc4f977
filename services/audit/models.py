"""Audit's own tables. Audit never reads another service's tables: what it knows of a
submission, a city or a person arrived as an event or with the workflow's review request.

- `review_cases`: one per submission, with audit's own copy of the frozen submission;
- `decisions`: one per (case, criterion), versioned (no silent overwrite);
- `clarification_rounds`, `call_notes`, `signoffs`: the review's steps;
- `conflicts`: what each auditor declared;
- `staff`, `cities`: directories kept from intake's events;
- `debrief_calls`: each submission's debrief call, kept from notify's events;
- `trail`, `trail_heads`: the append-only record of every action, chained by hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.infra.orm import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


class ReviewCase(Base):
    __tablename__ = "review_cases"
    __table_args__ = (Index("ix_review_cases_queue", "status", "due_at", "opened_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    city_id: Mapped[str | None] = mapped_column(String(36))
    # The city as submitted (kept current from city.updated while the case is open).
    city_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    state: Mapped[str] = mapped_column(String(100), default="", server_default="")
    country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str | None] = mapped_column(String(20))
    cycle: Mapped[str] = mapped_column(String(20), default="", server_default="")
    catalog_version: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # queued | in_review | clarification | signoff | completed | withdrawn (domain.CaseState)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    holder_id: Mapped[str | None] = mapped_column(String(64), index=True)
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The frozen submission (responses, narratives, evidence manifest), once received.
    submission: Mapped[dict] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_responses: Mapped[dict] = mapped_column(JSON, default=dict)
    audited_responses: Mapped[dict] = mapped_column(JSON, default=dict)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The due date a reminder (due soon) and an escalation (overdue) were sent for.
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sign-off: who submitted the review, who approved it, and the hash of what was approved.
    reviewer_id: Mapped[str | None] = mapped_column(String(64))
    signoff_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decisions_hash: Mapped[str | None] = mapped_column(String(64))
    # Everyone who ever decided a criterion of the case (superseded decisions included):
    # none of them may sign it off (four eyes over the whole review, not the latest state).
    deciders: Mapped[list | None] = mapped_column(JSON, default=list)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Calibration: picked for a blind second review when opened (`domain.picked_for_double_review`),
    # its second reviewer, and the first review as it stood when the two were disclosed to
    # each other (the sign-off request): {"reviewer_id", "responses": {criterion: response}}.
    double_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    second_reviewer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    first_review: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # Bumped by every change of the row: the lock every write of the case takes first.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("case_id", "criterion_id", name="uq_decisions_case_criterion"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("review_cases.id", name="fk_decisions_case"))
    criterion_id: Mapped[str] = mapped_column(String(40))
    submitted: Mapped[str] = mapped_column(String(20))
    response: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(80), default="")
    explanation: Mapped[str] = mapped_column(Text, default="")
    what_would_satisfy: Mapped[str] = mapped_column(Text, default="")
    # The evidence in view when deciding: [{id, filename|url, sha256, round}]
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    call_note_id: Mapped[str | None] = mapped_column(String(36))
    # What was judged: the criterion's answer-and-evidence version (1: as submitted; each
    # clarification answer touching it adds one) and its fingerprint. Newer material marks
    # the decision "changed since decided" until it is decided again or confirmed with a note.
    judged_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    judged_fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Why the decision stands although the material changed (a confirmation with a note).
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class BlindDecision(Base):
    """The second reviewer's decision on a criterion of a double-reviewed case, kept apart
    from `decisions` (which are the city's): neither reviewer sees the other's until the
    sign-off request discloses both."""

    __tablename__ = "blind_decisions"
    __table_args__ = (UniqueConstraint("case_id", "criterion_id", name="uq_blind_decisions_case_criterion"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("review_cases.id", name="fk_blind_decisions_case"),
                                         index=True)
    criterion_id: Mapped[str] = mapped_column(String(40))
    auditor_id: Mapped[str] = mapped_column(String(64))
    submitted: Mapped[str] = mapped_column(String(20))
    response: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    what_would_satisfy: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Resolution(Base):
    """How a difference between the two reviewers was settled at sign-off: keep the first
    auditor's decision or take the second's (which then becomes the decision), with a note."""

    __tablename__ = "double_review_resolutions"
    __table_args__ = (UniqueConstraint("case_id", "criterion_id", name="uq_resolutions_case_criterion"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("review_cases.id", name="fk_resolutions_case"),
                                         index=True)
    criterion_id: Mapped[str] = mapped_column(String(40))
    first_response: Mapped[str] = mapped_column(String(20))
    second_response: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))  # keep_first | take_second
    note: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClarificationRound(Base):
    __tablename__ = "clarification_rounds"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_rounds_case_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # the request id
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("review_cases.id", name="fk_rounds_case"))
    number: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | answered | expired
    # The city's answer: {criterion: {narrative, evidence: [EvidenceItem]}}
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallNote(Base):
    __tablename__ = "call_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("review_cases.id", name="fk_call_notes_case"),
                                         index=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attendees: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text)
    criteria: Mapped[list] = mapped_column(JSON, default=list)  # the agenda items discussed
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Signoff(Base):
    """The sign-off's history: requested (by the reviewer), returned or approved (by a
    second auditor), each with the hash of the decisions it concerned."""

    __tablename__ = "signoffs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("review_cases.id", name="fk_signoffs_case"),
                                         index=True)
    action: Mapped[str] = mapped_column(String(20))  # requested | returned | approved
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comments: Mapped[str] = mapped_column(Text, default="")
    decisions_hash: Mapped[str] = mapped_column(String(64))


class Conflict(Base):
    __tablename__ = "conflicts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    auditor_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(10))  # city | state | country
    city_id: Mapped[str] = mapped_column(String(36), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    state: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Staff(Base):
    """Auditors and operators, from `wwc.intake.user.registered` (names, assignment)."""

    __tablename__ = "staff"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="en")
    # Their own zone (chosen in their settings, `user.updated`): the console's times are in it.
    timezone: Mapped[str | None] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class City(Base):
    """Cities as intake publishes them (`city.registered` / `.updated`): names, places."""

    __tablename__ = "cities"

    city_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2))
    population: Mapped[int] = mapped_column(Integer, default=0)
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CityFactChange(Base):
    """A correction of a city's registration facts as intake announced it
    (`city.facts_changed`): shown on the city's cases, so the auditor sees that the
    population (or place) changed, from what, by whom and why."""

    __tablename__ = "city_fact_changes"

    change_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str] = mapped_column(String(36), index=True)
    changes: Mapped[list] = mapped_column(JSON)  # [{fact, old, new}]
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(36))
    changed_by_name: Mapped[str] = mapped_column(String(200), default="")
    changed_by_role: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrailRecord(Base):
    """One action: who, what, before, after, why, when; `hash` covers all of it and the
    previous record's hash. Rows are only ever inserted."""

    __tablename__ = "trail"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_trail_chain_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(80))  # case:<id> | auditor:<id>
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    # The key the record was sealed with (HMAC-SHA256; "" for records written before the
    # trail was keyed, which are plain SHA-256). The key itself never enters this database.
    key_id: Mapped[str] = mapped_column(String(40), default="", server_default="")
    hash: Mapped[str] = mapped_column(String(64))


class TrailHead(Base):
    """Each chain's last sequence number and hash, kept apart from the records: removing
    the last record is detected too. Its row is the lock an append takes."""

    __tablename__ = "trail_heads"

    chain: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(64))


class DebriefCall(Base):
    """A city's debrief call as notify announces it (`wwc.notify.debrief.*`): when, with
    whom, booked by whom, and where it stands. One per submission: the latest call."""

    __tablename__ = "debrief_calls"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    booking_id: Mapped[str] = mapped_column(String(36), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auditor_id: Mapped[str] = mapped_column(String(64), default="")
    booked_by_name: Mapped[str] = mapped_column(String(200), default="")
    cancelled_by_name: Mapped[str] = mapped_column(String(200), default="")  # who cancelled it, when cancelled
    timezone: Mapped[str] = mapped_column(String(64), default="")  # the slot's (its auditor's) zone
    # booked | cancelled | held | no_show | declined | expired
    state: Mapped[str] = mapped_column(String(20), default="booked")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appeal(Base):
    """A city's appeal of audited findings, opened by the workflow (`audit.open_appeal`):
    the appealed findings with the city's statements and new evidence, who took part in
    the original review (none of them may decide or sign it off), its own clock, and who
    decided and signed it off (four eyes)."""

    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # intake's appeal id
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    case_id: Mapped[str | None] = mapped_column(String(36))
    city_id: Mapped[str] = mapped_column(String(36), default="")
    city_name: Mapped[str] = mapped_column(String(200), default="")
    cycle: Mapped[str] = mapped_column(String(20), default="")
    catalog_version: Mapped[str] = mapped_column(String(40), default="")
    # open | signoff (every criterion decided) | decided (signed off)
    status: Mapped[str] = mapped_column(String(20), default="open")
    # [{criterion_id, submitted, audited, statement, evidence: [EvidenceItem]}]
    findings: Mapped[list] = mapped_column(JSON, default=list)
    excluded: Mapped[list] = mapped_column(JSON, default=list)  # took part in the review
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filed_by_name: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AppealDecision(Base):
    """One appealed criterion's decision: upheld or overturned, with a reason and an
    explanation the city reads (decided again before sign-off: the row is updated and the
    trail keeps every version)."""

    __tablename__ = "appeal_decisions"
    __table_args__ = (UniqueConstraint("appeal_id", "criterion_id", name="uq_appeal_decisions_criterion"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    appeal_id: Mapped[str] = mapped_column(String(36), ForeignKey("appeals.id", name="fk_appeal_decisions_appeal"),
                                           index=True)
    criterion_id: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))  # upheld | overturned
    response: Mapped[str] = mapped_column(String(20))  # the response that stands
    reason_code: Mapped[str] = mapped_column(String(80), default="")
    explanation: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

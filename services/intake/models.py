"""Intake's own tables: cities and their staff, Data Snapshots, assessment drafts with
responses and evidence, frozen submissions with what intake knows of their progress,
clarification requests (audit's, as announced) and the city's answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.infra.orm import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


class City(Base):
    __tablename__ = "cities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2))
    population: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str | None] = mapped_column(String(20))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320))
    # Derived from the place at registration (shared.catalog.timezones); the city may change it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # The language the city's mail and report are written in (its contact's, at first).
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("name", "state", "country", name="uq_city_place"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # city | auditor | operator
    city_id: Mapped[str | None] = mapped_column(ForeignKey("cities.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    # A staff member's own zone (auditors, operators): the times their consoles show and
    # read. None: not chosen yet (consoles then show UTC, named).
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CityFactChange(Base):
    """One correction of a city's registration facts (name, place, population): who, when,
    each fact's old and new value, and why. Never updated or deleted."""

    __tablename__ = "city_fact_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"), index=True)
    # {fact: {"old": value, "new": value}} for the facts that changed
    changes: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(36))
    changed_by_name: Mapped[str] = mapped_column(String(200), default="")
    changed_by_role: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingRegistration(Base):
    """A city registration waiting for its contact to confirm the address (the link in the
    mail). Only the token's SHA-256 is kept; the city and account exist once confirmed."""

    __tablename__ = "pending_registrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    # The registration form as sent (CityCreate) with the password already hashed.
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Snapshot(Base):
    __tablename__ = "snapshots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"))
    cycle: Mapped[str] = mapped_column(String(16))
    catalog_version: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict] = mapped_column(JSON)
    eligible: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("city_id", "cycle", name="uq_snapshot_city_cycle"),)


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"), index=True)
    cycle: Mapped[str] = mapped_column(String(16))
    catalog_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # domain.AssessmentState
    # Bytes of evidence files stored for this assessment (drafts and clarifications): the
    # per-submission limit is checked and counted on this one row (evidence._reserve).
    evidence_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("city_id", "cycle", name="uq_assessment_city_cycle"),)


class Response(Base):
    __tablename__ = "responses"

    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    criterion_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    response: Mapped[str | None] = mapped_column(String(12))  # YES | IN_PROGRESS | NO
    narrative: Mapped[str] = mapped_column(Text, default="")
    # Optimistic concurrency: a save names the version it read; a stale one is refused.
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # file | link
    filename: Mapped[str | None] = mapped_column(String(255))
    object_key: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(120))
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(300), default="")
    # Evidence added while answering a clarification round names it.
    clarification_id: Mapped[str | None] = mapped_column(String(36))
    uploaded_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Base):
    """The immutable snapshot frozen at submission (responses, narratives, manifest)."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), unique=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id"), index=True)
    cycle: Mapped[str] = mapped_column(String(16))
    catalog_version: Mapped[str] = mapped_column(String(40))
    frozen: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(30), default="submitted")
    workflow_id: Mapped[str] = mapped_column(String(80))
    submitted_by: Mapped[str | None] = mapped_column(String(36))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What intake knows of the certification's progress, from its own records and the
    # events of the services that own each fact (services/intake/progress.py): the pages
    # never ask the workflow engine.
    stages: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # [{stage, at, detail}] as the workflow recorded them
    waiting_for: Mapped[str] = mapped_column(String(60), default="", server_default="")
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_by_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    score: Mapped[dict | None] = mapped_column(JSON)  # scoring's {met, total, percent, tier}
    report_id: Mapped[str | None] = mapped_column(String(36))
    report_url: Mapped[str | None] = mapped_column(String(500))
    debrief_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    debrief_sequence: Mapped[int] = mapped_column(Integer, default=-1, server_default="-1")
    debrief_outcome: Mapped[str | None] = mapped_column(String(20))
    # The review as audit approved it (its `review.completed`): every criterion's audited
    # response and each change with its reason, for the city's pages.
    # {"final": {criterion: answer}, "changes": {criterion: {...}}, "approved_at": iso}
    audit: Mapped[dict | None] = mapped_column(JSON)
    # The appeal window the certification runs with (days after completion; 0: none),
    # as the programme set it when it was submitted.
    appeal_window_days: Mapped[int | None] = mapped_column(Integer)


class ClarificationRequest(Base):
    """An auditor's clarification request as audit announced it (audit owns the rounds)."""

    __tablename__ = "clarification_requests"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    criteria: Mapped[list] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(36), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # open | answered | expired (closed by audit when its due date passed unanswered)
    state: Mapped[str] = mapped_column(String(12), default="open")


class ClarificationAnswer(Base):
    __tablename__ = "clarification_answers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(36))
    # {"request": {criteria, message, due_at, requested_by} as asked,
    #  "criteria": {criterion_id: {"narrative": ..., "evidence_ids": [...]}}}; the evidence
    # rows (files and links) carry clarification_id = request_id.
    answers: Mapped[dict] = mapped_column(JSON)
    answered_by: Mapped[str | None] = mapped_column(String(36))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("submission_id", "request_id", name="uq_answer_request"),)


class Appeal(Base):
    """A city's appeal of audited findings, filed once the certification completed and
    within the programme's window; one per submission. Its files are evidence rows marked
    with the appeal's id (`Evidence.clarification_id`), apart from the frozen submission.
    The decisions arrive from audit's `appeal.decided`."""

    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    city_id: Mapped[str] = mapped_column(String(36), index=True)
    # {criterion_id: {"statement": ..., "evidence_ids": [...]}}
    criteria: Mapped[dict] = mapped_column(JSON)
    filed_by: Mapped[str | None] = mapped_column(String(36))
    filed_by_name: Mapped[str] = mapped_column(String(200), default="")
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # [{criterion_id, outcome, before, response, reason_code, explanation}] once decided
    decisions: Mapped[list | None] = mapped_column(JSON)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

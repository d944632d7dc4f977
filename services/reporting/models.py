"""Reporting's own tables: rendered reports and the operator pipeline view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.infra.orm import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


class Report(Base):
    """A Certification Report, frozen when rendered: its document (every number and
    text, JSON) and renders in the city's language are in object storage; other languages
    render from the same document on demand."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(36))
    # 1: the first report; 2, 3...: reissued after an appeal overturned a finding. Each
    # version is its own frozen document with its own code; the newest one is current.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The version this one replaces, and the appeal that caused it (None for version 1).
    replaces_id: Mapped[str | None] = mapped_column(String(36))
    appeal_id: Mapped[str | None] = mapped_column(String(36))
    city_id: Mapped[str] = mapped_column(String(36), index=True)
    # The frozen ReportDocument (JSON); the HTML and PDF in `language` sit beside it.
    object_key: Mapped[str] = mapped_column(String(300))
    city_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    cycle: Mapped[str] = mapped_column(String(16), default="", server_default="")
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    tier: Mapped[str | None] = mapped_column(String(20))
    # Certified reports carry a code anyone can check; SHA-256 of the PDF as rendered.
    verification_code: Mapped[str | None] = mapped_column(String(32))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    honor_roll: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("verification_code", name="uq_reports_verification_code"),
                      UniqueConstraint("submission_id", "version", name="uq_reports_submission_version"))


class LedgerEntry(Base):
    """Every event of the programme, as it came (secrets removed): the timeline of each
    submission and the source of the dashboard's figures. Reporting never reads another
    service's tables; this is what it knows."""

    __tablename__ = "ledger"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submission_id: Mapped[str | None] = mapped_column(String(36))
    city_id: Mapped[str | None] = mapped_column(String(36))
    correlation_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # When reporting recorded it: what the operator console's live updates watch.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (
        Index("ix_ledger_submission", "submission_id", "occurred_at"),
        Index("ix_ledger_subject", "subject", "occurred_at"),
    )


class CityEntry(Base):
    """A city as intake last described it (from city.registered / city.updated)."""

    __tablename__ = "cities"

    city_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(100), default="", server_default="")
    country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PipelineEntry(Base):
    """Where each submission is now and what it waits for, built only from events (the
    operator view; the newest fact wins when events arrive out of order)."""

    __tablename__ = "pipeline"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str | None] = mapped_column(String(36), index=True)
    city_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    cycle: Mapped[str] = mapped_column(String(16), default="", server_default="")
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str | None] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(30), default="submitted", server_default="submitted")
    stage_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    waiting_for: Mapped[str] = mapped_column(String(200), default="", server_default="")
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The review: its holder, due date and whether it went past it.
    case_id: Mapped[str | None] = mapped_column(String(36))
    auditor_id: Mapped[str | None] = mapped_column(String(36))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A step that failed on bad data and waits for an operator (cleared when it moves on).
    failing: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Who asked for sign-off, while the review waits for a second auditor.
    signoff_by: Mapped[str | None] = mapped_column(String(36))
    # The step that failed on bad data (an activity's name), while it waits for an operator.
    failing_step: Mapped[str] = mapped_column(String(100), default="", server_default="")
    tier: Mapped[str | None] = mapped_column(String(20))
    percent: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_pipeline_stage", "cycle", "stage"),)


class HonorRollChange(Base):
    """Who put a certified report's city on the Honor Roll (or took it off), and when; the
    flag itself is `Report.honor_roll`."""

    __tablename__ = "honor_roll_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(String(36), index=True)
    honor_roll: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Reporting's own tables: rendered reports and the operator pipeline view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.infra.orm import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    city_id: Mapped[str] = mapped_column(String(36), index=True)
    object_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PipelineEntry(Base):
    """Where each submission is, built only from events (the operator view)."""

    __tablename__ = "pipeline"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

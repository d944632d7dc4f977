"""Audit's own tables: review cases (one per submission)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.infra.orm import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


class ReviewCase(Base):
    __tablename__ = "review_cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    city_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | completed
    submitted_responses: Mapped[dict] = mapped_column(JSON, default=dict)
    audited_responses: Mapped[dict] = mapped_column(JSON, default=dict)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

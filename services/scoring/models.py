"""Scoring's own tables: computed scores (one per submission)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.infra.orm import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Score(Base):
    __tablename__ = "scores"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str] = mapped_column(String(36), index=True)
    cycle: Mapped[str] = mapped_column(String(16), index=True)
    catalog_version: Mapped[str] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str | None] = mapped_column(String(20))
    met: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    percent: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str | None] = mapped_column(String(16))
    # The full explainable result (per criterion and per area), as the engine returned it.
    result: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

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


class CityLatest(Base):
    """Each city's latest scored submission per cycle: what benchmarks count."""

    __tablename__ = "benchmark_city_latest"

    city_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cycle: Mapped[str] = mapped_column(String(16), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str] = mapped_column(String(20))
    percent: Mapped[int] = mapped_column(Integer)
    area_percent: Mapped[dict] = mapped_column(JSON)
    met: Mapped[list] = mapped_column(JSON)


class CohortTotal(Base):
    """Running sums per (cycle, scope): an update touches O(criteria) rows, never all cities."""

    __tablename__ = "benchmark_cohorts"

    cycle: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope: Mapped[str] = mapped_column(String(60), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    percent_sum: Mapped[int] = mapped_column(Integer, default=0)


class CohortArea(Base):
    __tablename__ = "benchmark_cohort_areas"

    cycle: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope: Mapped[str] = mapped_column(String(60), primary_key=True)
    area: Mapped[str] = mapped_column(String(20), primary_key=True)
    percent_sum: Mapped[int] = mapped_column(Integer, default=0)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CohortCriterion(Base):
    __tablename__ = "benchmark_cohort_criteria"

    cycle: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope: Mapped[str] = mapped_column(String(60), primary_key=True)
    criterion: Mapped[str] = mapped_column(String(20), primary_key=True)
    met_count: Mapped[int] = mapped_column(Integer, default=0)

"""Scoring's own tables: computed scores (one per submission), live benchmark sums and the
published benchmark releases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, true
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
    # Counted in the live sums but not yet in a release (its score or the release's differ).
    pending: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    __table_args__ = (Index("ix_benchmark_city_latest_pending", "cycle", "pending"),)


class CityReleased(Base):
    """Each city's score as the latest release of its cycle counts it."""

    __tablename__ = "benchmark_city_released"

    city_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cycle: Mapped[str] = mapped_column(String(16), primary_key=True)
    release: Mapped[int] = mapped_column(Integer)  # the release that took this score
    submission_id: Mapped[str] = mapped_column(String(36))
    region: Mapped[str | None] = mapped_column(String(40))
    population_band: Mapped[str] = mapped_column(String(20))
    percent: Mapped[int] = mapped_column(Integer)
    area_percent: Mapped[dict] = mapped_column(JSON)
    met: Mapped[list] = mapped_column(JSON)


class Release(Base):
    """A release of a cycle's benchmarks: the figures exactly as published, never changed."""

    __tablename__ = "benchmark_releases"

    cycle: Mapped[str] = mapped_column(String(16), primary_key=True)
    release: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed: Mapped[int] = mapped_column(Integer)  # cities added or re-scored since the last release
    figures: Mapped[dict] = mapped_column(JSON)  # PublishedBenchmarks


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

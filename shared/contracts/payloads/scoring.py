"""Facts scoring publishes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ScoreComputed(BaseModel):
    submission_id: str
    city_id: str
    cycle: str
    catalog_version: str
    region: str | None = None
    population_band: str | None = None
    met: int
    total: int
    percent: int
    tier: str | None = None
    area_percent: dict[str, int] = Field(default_factory=dict)
    met_criteria: list[str] = Field(default_factory=list)
    # When the score was stored: decides which of a city's scores is its latest.
    computed_at: datetime | None = None
    # 1: the submission's first score; 2...: scored again after an appeal changed its audited
    # responses (the new score replaces the earlier one everywhere it is counted).
    version: int = 1

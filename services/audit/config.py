"""Audit's own options (`WWC_AUDIT_*`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_AUDIT_", extra="ignore")
    # A case is due this long after it opens (the clock stops while a clarification round
    # is open: the workflow moves the due date by the round's length).
    review_sla_days: float = Field(default=21, gt=0)
    # The holder is reminded this long before the due date; operators are told once it passes.
    remind_before_days: float = Field(default=2, ge=0)
    # Clarification rounds per case, and how long the city has to answer one.
    max_clarification_rounds: int = Field(default=2, ge=0)
    round_days: float = Field(default=10, gt=0)
    min_round_days: float = Field(default=1, gt=0)
    max_round_days: float = Field(default=30, gt=0)
    # Evidence shown in the console is fetched through intake's short-lived link and
    # checked against the manifest's hash before it is shown; larger files are refused.
    preview_max_mb: float = Field(default=50, gt=0)

    @property
    def review_sla(self) -> timedelta:
        return timedelta(days=self.review_sla_days)

    @property
    def remind_before(self) -> timedelta:
        return timedelta(days=self.remind_before_days)

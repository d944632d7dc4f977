"""Intake's own options (`WWC_INTAKE_*`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.vocabulary import ReviewMode


class IntakeOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_INTAKE_", extra="ignore")
    current_cycle: str = "2026"
    catalog_version: str = "wwc-2019"
    # An unknown mode is refused at start-up (a workflow would otherwise wait forever).
    review_mode: ReviewMode = ReviewMode.AUTO
    # Floats so tests (and small deployments) can use fractions of a MB or a minute.
    max_file_mb: float = 25
    max_submission_mb: float = 250
    download_link_minutes: float = 5

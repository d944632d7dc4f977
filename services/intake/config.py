"""Intake's own options (`WWC_INTAKE_*`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class IntakeOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_INTAKE_", extra="ignore")
    current_cycle: str = "2026"
    catalog_version: str = "wwc-2019"
    # "auto" until the auditor review console drives reviews (see CertificationInput).
    review_mode: str = "auto"
    max_file_mb: int = 25
    max_submission_mb: int = 250
    download_link_minutes: int = 5

"""Intake's own options (`WWC_INTAKE_*`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.vocabulary import ReviewMode


class IntakeOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_INTAKE_", extra="ignore")
    current_cycle: str = "2026"
    catalog_version: str = "wwc-2019"
    # An unknown mode is refused at start-up (a workflow would otherwise wait forever).
    review_mode: ReviewMode = ReviewMode.AUDITOR
    # Floats so tests (and small deployments) can use fractions of a MB or a minute.
    max_file_mb: float = 25
    max_submission_mb: float = 250
    download_link_minutes: float = 5
    # How long the link that confirms a new account's address works.
    registration_link_hours: float = 48
    # Failed sign-ins allowed per account and per client address, in moving windows
    # (`limits` notation, ';'-separated); past any of them sign-in answers 429 until the
    # window frees. Counters live in memory unless a shared storage is given, e.g.
    # async+redis://redis:6379 when several intake replicas run.
    sign_in_limits_per_account: str = "5/minute;10/hour;20/day"
    sign_in_limits_per_client: str = "20/minute;100/hour;300/day"
    throttle_storage: str = "async+memory://"

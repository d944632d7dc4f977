"""Intake's own options (`WWC_INTAKE_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.vocabulary import ReviewMode


class IntakeOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_INTAKE_", extra="ignore")
    current_cycle: str = "2026"
    catalog_version: str = "wwc-2019"
    # An unknown mode is refused at start-up (a workflow would otherwise wait forever).
    review_mode: ReviewMode = ReviewMode.AUDITOR
    # A programme setting: for how many days after its certification completes a city may
    # appeal audited findings (0: no appeals). Each submission keeps the value it ran with.
    # (`WWC_INTAKE_APPEAL_WINDOW_DAYS`, like every intake option.)
    appeal_window_days: int = Field(default=30, ge=0)
    # Floats so tests (and small deployments) can use fractions of a MB or a minute.
    max_file_mb: float = 25
    max_submission_mb: float = 250
    download_link_minutes: float = 5
    # How long the link that confirms a new account's address works.
    registration_link_hours: float = 48
    # Failed sign-ins: per (account, client) pair, a few are free, then each further one
    # doubles the pair's wait (from `sign_in_delay_seconds`, at most `..._max_seconds`);
    # the same account from another client is not slowed. A client failing on many
    # accounts is stopped by its own moving windows (`limits` notation, ';'-separated).
    sign_in_free_failures: int = 3
    sign_in_delay_seconds: float = 2
    sign_in_delay_max_seconds: float = 900
    sign_in_limits_per_client: str = "20/minute;100/hour;300/day"
    # Registrations and invitations (each mails an address): per address asked for and
    # per client asking, in moving windows; past one, 429 before anything is done.
    registration_limits_per_address: str = "3/hour;6/day"
    registration_limits_per_client: str = "20/minute;100/hour;300/day"
    # The counters live where WWC_THROTTLE_STORAGE says (shared.infra.settings).

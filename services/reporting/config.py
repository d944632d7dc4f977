"""Reporting's own options (`WWC_REPORTING_*`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_REPORTING_", extra="ignore")
    # Verification look-ups allowed per client address, in moving windows (`limits`
    # notation, ';'-separated); past any of them the page and the API answer 429. Counters
    # live in memory unless a shared storage is given (e.g. async+redis://redis:6379).
    verify_limits_per_client: str = "30/minute;300/hour;1000/day"
    throttle_storage: str = "async+memory://"

"""Reporting's own options (`WWC_REPORTING_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.infra.cpu_pool import default_size


class ReportingOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WWC_REPORTING_", extra="ignore")
    # Verification look-ups allowed per client address, in moving windows (`limits`
    # notation, ';'-separated); past any of them the page and the API answer 429. The
    # counters live where WWC_THROTTLE_STORAGE says (shared.infra.settings).
    verify_limits_per_client: str = "30/minute;300/hour;1000/day"
    # Worker processes that render reports (charts and typesetting), outside the service's
    # event loop and interpreter lock. 0: one per core. The reporting worker takes as many
    # render activities at once as there are processes (unless
    # WWC_REPORTING_MAX_CONCURRENT_ACTIVITIES says otherwise).
    render_processes: int = Field(default=0, ge=0)

    @property
    def render_pool_size(self) -> int:
        return self.render_processes or default_size()

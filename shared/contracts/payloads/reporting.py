"""Facts reporting publishes."""

from __future__ import annotations

from pydantic import BaseModel

from shared.i18n import Lang


class ReportReady(BaseModel):
    submission_id: str
    report_id: str
    object_key: str | None = None
    city_id: str | None = None
    cycle: str = ""
    language: Lang = "en"
    tier: str | None = None
    url: str | None = None
    verification_code: str | None = None
    # 1: the first report; 2...: reissued after an appeal (it replaces the one before).
    version: int = 1

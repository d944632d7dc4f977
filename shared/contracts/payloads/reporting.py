"""Facts reporting publishes."""

from __future__ import annotations

from pydantic import BaseModel


class ReportReady(BaseModel):
    submission_id: str
    report_id: str
    object_key: str | None = None
    city_id: str | None = None
    cycle: str = ""
    language: str = "en"
    tier: str | None = None
    url: str | None = None
    verification_code: str | None = None

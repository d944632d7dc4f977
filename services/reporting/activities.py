"""Reporting's activities (reporting task queue)."""

from __future__ import annotations

from temporalio import activity

from certification.activities import Activities, ReportOutcome, ReportRequest, bad_data
from services.reporting.issuing import issue_report
from services.reporting.renders import Renders
from services.reporting.report import ReportInputError
from shared.infra.runtime import ServiceRuntime
from shared.infra.settings import service_urls


class ReportingActivities:
    def __init__(self, runtime: ServiceRuntime, renders: Renders) -> None:
        self.runtime, self.renders = runtime, renders

    @activity.defn(name=Activities.RENDER_REPORT.name)
    async def render_report(self, req: ReportRequest) -> ReportOutcome:
        urls = {**service_urls(), "reporting": self.runtime.settings.service.public_url or service_urls()["reporting"]}
        try:
            report = await issue_report(self.runtime.db, self.renders, req, urls=urls)
        except ReportInputError as exc:
            raise bad_data(f"cannot build the report of {req.submission_id}: {exc}") from exc
        self.runtime.wake_relay()
        return ReportOutcome(report_id=report.id, object_key=report.object_key,
                             verification_code=report.verification_code,
                             url=f"{urls['reporting']}/reports/{report.id}")

    def all(self) -> list:
        return [self.render_report]

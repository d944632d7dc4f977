"""Reporting's activities (reporting task queue)."""

from __future__ import annotations

from temporalio import activity

from services.reporting import rendering
from services.reporting.report import ReportInputError
from shared.contracts.activities import Activities, ReportOutcome, ReportRequest, bad_data
from shared.infra.runtime import ServiceRuntime
from shared.infra.settings import service_urls


class ReportingActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activities.RENDER_REPORT.name)
    async def render_report(self, req: ReportRequest) -> ReportOutcome:
        assert self.runtime.storage is not None
        activity.heartbeat("rendering")
        urls = {**service_urls(), "reporting": self.runtime.settings.service.public_url or service_urls()["reporting"]}
        try:
            async with self.runtime.db.transaction() as session:
                report = await rendering.render_report(session, self.runtime.storage, req, urls=urls)
                outcome = ReportOutcome(report_id=report.id, object_key=report.object_key,
                                        verification_code=report.verification_code,
                                        url=f"{urls['reporting']}/reports/{report.id}")
        except ReportInputError as exc:
            raise bad_data(f"cannot build the report of {req.submission_id}: {exc}") from exc
        self.runtime.wake_relay()
        return outcome

    def all(self) -> list:
        return [self.render_report]

"""Reporting's activities (reporting task queue)."""

from __future__ import annotations

from temporalio import activity

from shared.contracts.workflows import Activity, ReportOutcome, ReportRequest
from shared.infra.runtime import ServiceRuntime
from services.reporting import service


class ReportingActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activity.REPORTING_RENDER_REPORT)
    async def render_report(self, req: ReportRequest) -> ReportOutcome:
        assert self.runtime.storage is not None
        async with self.runtime.db.transaction() as session:
            report = await service.render_report(session, self.runtime.storage, req)
            outcome = ReportOutcome(report_id=report.id, object_key=report.object_key)
        self.runtime.wake_relay()
        return outcome

    def all(self) -> list:
        return [self.render_report]

"""A workflow that asks reporting for one report, with the real activity's name, queue and
options (an optional shorter heartbeat timeout): for the burst tests. Its own module,
importing little, so it runs in the workflow sandbox."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from certification.activities import Activities, ReportOutcome, ReportRequest


class RenderProbeInput(BaseModel):
    request: ReportRequest
    queue: str
    heartbeat_seconds: float | None = None


@workflow.defn(name="RenderProbe")
class RenderProbe:
    @workflow.run
    async def run(self, inp: RenderProbeInput) -> ReportOutcome:
        spec = Activities.RENDER_REPORT
        heartbeat = timedelta(seconds=inp.heartbeat_seconds) if inp.heartbeat_seconds else spec.heartbeat
        return await workflow.execute_activity(
            spec.name, inp.request, task_queue=inp.queue, result_type=ReportOutcome,
            start_to_close_timeout=spec.start_to_close, heartbeat_timeout=heartbeat, retry_policy=spec.retry)


def slow_render_stored(doc_json: str, lang: str, kinds: tuple[str, ...]) -> dict[str, bytes]:
    """The real render, taking longer than a heartbeat timeout (runs in a worker process)."""
    import time

    from services.reporting.report import render_stored

    time.sleep(SLOW_SECONDS)
    return render_stored(doc_json, lang, kinds)


SLOW_SECONDS = 4.0

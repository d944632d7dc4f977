"""A small workflow for the telemetry tests: one activity that succeeds, one that fails
once and then succeeds, one that gets bad data (non-retryable). Its own module, importing
little, so it runs in the workflow sandbox."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel


class ProbeInput(BaseModel):
    correlation_id: str = ""


@activity.defn(name="probe.ok")
async def ok(arg: ProbeInput) -> str:
    return "ok"


@activity.defn(name="probe.flaky")
async def flaky(arg: ProbeInput) -> str:
    if activity.info().attempt == 1:
        raise RuntimeError("the first attempt fails")
    return "ok"


@activity.defn(name="probe.bad")
async def bad(arg: ProbeInput) -> str:
    raise ApplicationError("this input can never succeed", non_retryable=True)


ACTIVITIES = [ok, flaky, bad]


@workflow.defn(name="TelemetryProbe")
class ProbeWorkflow:
    @workflow.run
    async def run(self, arg: ProbeInput) -> list[str]:
        quick = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3)
        results = []
        for name in ("probe.ok", "probe.flaky", "probe.bad"):
            try:
                results.append(await workflow.execute_activity(
                    name, arg, start_to_close_timeout=timedelta(seconds=10), retry_policy=quick))
            except ActivityError:
                results.append("failed")
        return results

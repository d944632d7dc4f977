"""The pipeline benchmark's baseline: a workflow of N no-op activities. Its own module,
importing only temporalio, so it runs in the workflow sandbox like the real workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench.noop")
async def noop(i: int) -> int:
    return i


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    @workflow.run
    async def run(self, n: int) -> int:
        for i in range(n):
            await workflow.execute_activity("bench.noop", i, start_to_close_timeout=timedelta(seconds=30))
        return n

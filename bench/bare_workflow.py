"""The pipeline benchmark's baseline: a workflow of no-op activities, as many remote and
local ones as one real certification runs. Its own module, importing only temporalio and
pydantic, so it runs in the workflow sandbox like the real workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel


class BareInput(BaseModel):
    remote: int
    local: int


@activity.defn(name="bench.noop")
async def noop(i: int) -> int:
    return i


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    @workflow.run
    async def run(self, inp: BareInput) -> int:
        for i in range(max(inp.remote, inp.local)):
            if i < inp.local:
                await workflow.execute_local_activity("bench.noop", i, start_to_close_timeout=timedelta(seconds=30))
            if i < inp.remote:
                await workflow.execute_activity("bench.noop", i, start_to_close_timeout=timedelta(seconds=30))
        return inp.remote + inp.local

"""Runs a workflow on `WorkflowEnvironment.start_local` pointed at the installed Temporal
CLI (nothing downloaded). Run in a subprocess by test_start_local.py: temporalio 1.35 can
abort the interpreter at exit after env.shutdown(), so the probe leaves with os._exit."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devtools.devstack import temporal_binary


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn
class Probe:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(greet, name, start_to_close_timeout=timedelta(seconds=10))


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), data_converter=pydantic_data_converter,
        dev_server_download_ttl=None,
    )
    queue = f"probe-{uuid.uuid4().hex[:6]}"
    async with Worker(env.client, task_queue=queue, workflows=[Probe], activities=[greet]):
        result = await env.client.execute_workflow(Probe.run, "wwc", id=queue, task_queue=queue)
    print(f"RESULT {result}", flush=True)
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)

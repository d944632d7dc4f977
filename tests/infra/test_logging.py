"""Log lines are JSON off a TTY and carry the correlation fields, in activities too."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import structlog
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from shared.infra.temporal import DATA_CONVERTER
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from certification.activities import Traced
from shared.infra.temporal import CorrelationInterceptor


def test_json_lines_with_service_and_bound_fields():
    code = (
        "from shared.infra.logging import configure_logging, get_logger, bound_contextvars\n"
        "configure_logging('audit')\n"
        "with bound_contextvars(correlation_id='corr-1', submission_id='sub-1'):\n"
        "    get_logger('t').info('case.opened', case_id='c1')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])  # stderr is a pipe, not a TTY
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["event"] == "case.opened" and line["service"] == "audit"
    assert (line["correlation_id"], line["submission_id"], line["case_id"]) == ("corr-1", "sub-1", "c1")


seen: list[dict] = []


@activity.defn(name="wwc.test.traced")
async def traced_activity(arg: Traced) -> str:
    seen.append(structlog.contextvars.get_contextvars())
    return "ok"


@workflow.defn(name="TracedProbe")
class TracedProbe:
    @workflow.run
    async def run(self, arg: Traced) -> str:
        return await workflow.execute_activity(traced_activity, arg, start_to_close_timeout=timedelta(seconds=10))


async def test_activities_log_with_the_submission_they_work_on(temporal_server):
    client = await Client.connect(temporal_server.address, data_converter=DATA_CONVERTER)
    queue = f"log-{uuid.uuid4().hex[:6]}"
    # Unsandboxed: this test module imports more than a workflow module may.
    async with Worker(client, task_queue=queue, activities=[traced_activity], workflows=[TracedProbe],
                      interceptors=[CorrelationInterceptor()], workflow_runner=UnsandboxedWorkflowRunner()):
        await client.execute_workflow(TracedProbe.run, Traced(submission_id="sub-9", correlation_id="corr-9"),
                                      id=queue, task_queue=queue)
    assert seen and seen[-1]["correlation_id"] == "corr-9" and seen[-1]["submission_id"] == "sub-9"
    assert seen[-1]["activity"] == "wwc.test.traced"

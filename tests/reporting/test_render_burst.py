"""A burst of reports against a reporting worker with one render process: every report is
issued at its first attempt, the worker never holds more renders than it can finish, and
a render longer than the heartbeat timeout is not mistaken for a dead worker.

Real Temporal, S3 and database; the renders run in the service's worker process pool."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

from devtools.harness import Stack
from services.reporting.config import ReportingOptions
from services.reporting.models import Report
from certification.activities import ReportRequest, ScoreOutcome
from shared.catalog import load_catalog
from shared.infra.tables import outbox
from shared.scoring.benchmarks import BenchmarkBook, publish
from shared.scoring.engine import score
from shared.scoring.simulator import path_for
from tests.factories import frozen_submission
from tests.reporting.render_probe import RenderProbe, RenderProbeInput, slow_render_stored

BURST = 10


@pytest.fixture
async def one_process_reporting(infra, tmp_path):
    """Reporting alone (with its queue, bucket and database), one render process."""
    stack = await Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("reporting",),
                        build_kwargs={"reporting": {"options": ReportingOptions(render_processes=1)}}).start()
    yield stack
    await stack.stop()


def request(i: int) -> ReportRequest:
    responses = {c: ("YES" if k % 3 else "NO") for k, c in enumerate(
        ["DG1", "DG2", "DG3", "EVAL1", "EVAL2", "GM1", "GM2", "OD1", "PA1", "SE1"])}
    submission = frozen_submission(responses, city_id=f"city-{i}", name=f"Burst City {i}")
    catalog = load_catalog(submission.catalog_version)
    result = score(catalog, responses)
    benchmarks = publish(BenchmarkBook(), submission.cycle)
    return ReportRequest(submission_id=str(uuid.uuid4()), submission=submission,
                         score=ScoreOutcome(met=result.met, total=result.total, percent=result.percent,
                                            tier=result.tier, result=result, benchmarks=benchmarks,
                                            path=path_for(catalog, result, benchmarks, None)))


async def issue_all(stack: Stack, requests: list[ReportRequest], *, heartbeat_seconds: float | None = None):
    """Start one probe workflow per request at once; each workflow's history when done."""
    runtime = stack.runtimes["reporting"]
    client = runtime.temporal_client
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[RenderProbe]):
        handles = await asyncio.gather(*(client.start_workflow(
            RenderProbe.run, RenderProbeInput(request=req, queue=runtime.task_queue, heartbeat_seconds=heartbeat_seconds),
            id=f"{queue}-{i}", task_queue=queue) for i, req in enumerate(requests)))
        await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=240)
        return [await h.fetch_history() for h in handles]


def attempts(history) -> list[tuple[int, float, float]]:
    """(attempt, started, closed) of the render activity in one workflow's history."""
    started = {e.event_id: e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED}
    out = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            s = started[e.activity_task_completed_event_attributes.started_event_id]
            out.append((s.activity_task_started_event_attributes.attempt,
                        s.event_time.ToDatetime().timestamp(), e.event_time.ToDatetime().timestamp()))
    return out


async def test_ten_reports_queued_on_one_process_all_issue_at_their_first_attempt(one_process_reporting):
    stack = one_process_reporting
    # (the worker takes one render at a time: asserted from the histories below)
    histories = await issue_all(stack, [request(i) for i in range(BURST)])

    runs = [attempts(h) for h in histories]
    assert all(len(r) == 1 and r[0][0] == 1 for r in runs), runs  # one attempt each: nothing retried
    # The worker took one render at a time: the others waited in Temporal's task queue,
    # not inside a started attempt whose clock was running.
    spans = sorted((started, closed) for (_, started, closed), in runs)
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), spans
    async with stack.runtimes["reporting"].db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == BURST
        ready = await session.scalar(select(func.count()).select_from(outbox).where(
            outbox.c.subject == "wwc.reporting.report.ready"))
    assert ready == BURST  # each report announced once


async def test_a_render_longer_than_the_heartbeat_timeout_is_not_retried(one_process_reporting):
    """The attempt heartbeats from the event loop while the render runs in its process."""
    stack = one_process_reporting
    stack.apps["reporting"].state.renders.render_fn = slow_render_stored  # 4 s a report
    (history,) = await issue_all(stack, [request(0)], heartbeat_seconds=1.5)
    ((attempt, started, closed),) = attempts(history)
    assert attempt == 1 and closed - started >= 4.0

"""CertificationWorkflow on the real Temporal dev server, with stub activities registered
under the real names on each service's task queue (a unique prefix per test). Timers run
at realistic durations (days) and are reached by fast-forwarding the workflow's own clock
(temporalio's time-skipping `TimeSkipper`), never by waiting."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.testing import TimeSkipper
from temporalio.worker import Worker

from shared.contracts.workflows import (
    CERTIFICATION_WORKFLOW,
    Activity,
    CertificationInput,
    CertificationStatus,
    ClarificationAnswer,
    ClarificationRequest,
    DebriefOutcome,
    EvidenceCheckResult,
    Query,
    ReportOutcome,
    ReviewOutcome,
    ScoreOutcome,
    Signal,
    Stage,
    TaskQueue,
    Withdrawal,
)
from services.intake.workflow import CertificationWorkflow
from tests.factories import frozen_submission


class Stubs:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.statuses: list[str] = []

        self.details: dict[str, str] = {}

        @activity.defn(name=Activity.INTAKE_RECORD_STATUS)
        async def record_status(rec) -> None:
            status = rec["status"] if isinstance(rec, dict) else rec.status
            self.statuses.append(status)
            self.details[status] = rec["detail"] if isinstance(rec, dict) else rec.detail

        self.missing: list[str] = []

        @activity.defn(name=Activity.INTAKE_CHECK_EVIDENCE)
        async def check_evidence(_) -> EvidenceCheckResult:
            self.calls.append("evidence")
            return EvidenceCheckResult(checked=2, missing=self.missing)

        @activity.defn(name=Activity.AUDIT_COMPLETE_REVIEW)
        async def complete_review(req) -> ReviewOutcome:
            self.calls.append("audit")
            return ReviewOutcome(case_id="case-1", audited_responses={"DG1": "YES"})

        # Set by a test to hold scoring until it has done something while scoring runs.
        self.scoring_started = asyncio.Event()
        self.release_scoring: asyncio.Event | None = None

        @activity.defn(name=Activity.SCORING_SCORE_SUBMISSION)
        async def score_submission(req) -> ScoreOutcome:
            self.calls.append("scoring")
            self.scoring_started.set()
            if self.release_scoring is not None:
                await self.release_scoring.wait()
            return ScoreOutcome(met=1, total=45, percent=2, tier=None)

        @activity.defn(name=Activity.REPORTING_RENDER_REPORT)
        async def render_report(req) -> ReportOutcome:
            self.calls.append("reporting")
            return ReportOutcome(report_id="r-1")

        @activity.defn(name=Activity.NOTIFY_OFFER_DEBRIEF)
        async def offer_debrief(req) -> DebriefOutcome:
            self.calls.append("notify")
            return DebriefOutcome(offer_id="o-1", emailed=True)

        self.by_queue = {
            TaskQueue.INTAKE: [record_status, check_evidence],
            TaskQueue.AUDIT: [complete_review],
            TaskQueue.SCORING: [score_submission],
            TaskQueue.REPORTING: [render_report],
            TaskQueue.NOTIFY: [offer_debrief],
        }


@pytest.fixture
async def env(temporal_server):
    client = await Client.connect(temporal_server.address, data_converter=pydantic_data_converter)
    prefix = f"wf{uuid.uuid4().hex[:8]}-"
    stubs = Stubs()
    workers = [
        Worker(client, task_queue=f"{prefix}{queue}", activities=acts,
               workflows=[CertificationWorkflow] if queue == TaskQueue.INTAKE else [])
        for queue, acts in stubs.by_queue.items()
    ]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    yield client, prefix, stubs
    if stubs.release_scoring is not None:
        stubs.release_scoring.set()
    await asyncio.gather(*(w.shutdown() for w in workers))
    await asyncio.gather(*tasks, return_exceptions=True)


async def start(client, prefix, review_mode="auto"):
    sid = uuid.uuid4().hex
    inp = CertificationInput(submission_id=sid, submission=frozen_submission({"DG1": "YES"}),
                             review_mode=review_mode, task_queue_prefix=prefix)
    handle = await client.start_workflow(CERTIFICATION_WORKFLOW, inp, id=f"certification-{sid}",
                                         task_queue=f"{prefix}intake", result_type=CertificationStatus,
                                         id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    return handle, inp


async def status(handle) -> CertificationStatus:
    return await handle.query(Query.STATUS, result_type=CertificationStatus)


async def wait_stage(handle, stage: Stage, timeout: float = 15) -> CertificationStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        s = await status(handle)
        if s.stage == stage:
            return s
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"stage {s.stage}, wanted {stage}")
        await asyncio.sleep(0.1)


def clarification(days: float, rid: str = "q1") -> ClarificationRequest:
    return ClarificationRequest(request_id=rid, criteria=["DG1"], message="Please attach the data inventory.",
                                due_at=datetime.now(UTC) + timedelta(days=days), requested_by="auditor-1")


async def test_auto_mode_calls_every_service_in_order(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix)
    result = await handle.result()
    assert result.stage == Stage.COMPLETED
    assert stubs.calls == ["evidence", "audit", "scoring", "reporting", "notify"]
    assert stubs.statuses == ["evidence_check", "in_review", "scoring", "reporting", "debrief", "completed"]
    assert result.report_id == "r-1" and result.debrief_offer_id == "o-1"


async def test_clarification_holds_review_until_answered(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=14))
    s = await wait_stage(handle, Stage.CLARIFICATION)
    assert [c.request_id for c in s.open_clarifications] == ["q1"]
    # An auditor decision while a round is open does not end the review, even ten days on.
    await handle.signal(Signal.REVIEW_COMPLETED, ReviewOutcome(case_id="c", audited_responses={"DG1": "NO"}))
    assert await TimeSkipper(client).fast_forward(handle, timedelta(days=10))
    s = await status(handle)
    assert s.stage == Stage.CLARIFICATION and s.expired_clarifications == []
    await handle.signal(Signal.CLARIFICATION_ANSWERED, ClarificationAnswer(request_id="q1", answered_at=datetime.now(UTC)))
    result = await handle.result()
    assert result.stage == Stage.COMPLETED
    assert result.answered_clarifications == ["q1"] and result.open_clarifications == []
    assert "audit" not in stubs.calls  # the auditor's signal carried the review
    assert stubs.statuses.count("clarification") == 1


async def test_unanswered_clarification_expires_at_its_due_date(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=14))
    await wait_stage(handle, Stage.CLARIFICATION)
    skipper = TimeSkipper(client)
    assert await skipper.fast_forward(handle, timedelta(days=13))
    assert (await status(handle)).stage == Stage.CLARIFICATION  # a day before it is due: still open
    assert await skipper.fast_forward(handle, timedelta(days=2))
    s = await wait_stage(handle, Stage.IN_REVIEW)
    assert s.expired_clarifications == ["q1"] and s.open_clarifications == []
    await handle.signal(Signal.REVIEW_COMPLETED, ReviewOutcome(case_id="c", audited_responses={"DG1": "YES"}))
    assert (await handle.result()).stage == Stage.COMPLETED


async def test_withdraw_before_scoring_ends_without_scoring(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.WITHDRAW, Withdrawal(reason="We will apply next cycle."))
    result = await handle.result()
    assert result.stage == Stage.WITHDRAWN and result.withdrawn_reason == "We will apply next cycle."
    assert "scoring" not in stubs.calls
    assert stubs.statuses[-1] == "withdrawn"


async def test_withdraw_while_scoring_is_ignored(env):
    client, prefix, stubs = env
    stubs.release_scoring = asyncio.Event()
    handle, _ = await start(client, prefix)
    await stubs.scoring_started.wait()
    assert (await status(handle)).stage == Stage.SCORING
    await handle.signal(Signal.WITHDRAW, Withdrawal(reason="too late"))  # scoring is running
    stubs.release_scoring.set()
    result = await handle.result()
    assert result.stage == Stage.COMPLETED and result.withdrawn_reason is None
    assert stubs.statuses[-1] == "completed" and "withdrawn" not in stubs.statuses


async def test_a_finished_run_takes_no_more_signals(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix)
    await handle.result()
    with pytest.raises(RPCError):
        await handle.signal(Signal.WITHDRAW, Withdrawal(reason="too late"))


async def test_duplicate_start_is_rejected(env):
    client, prefix, _ = env
    handle, inp = await start(client, prefix, review_mode="auditor")
    with pytest.raises(WorkflowAlreadyStartedError):
        await client.start_workflow(CERTIFICATION_WORKFLOW, inp, id=handle.id, task_queue=f"{prefix}intake",
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    await handle.signal(Signal.WITHDRAW, Withdrawal())
    await handle.result()




async def test_missing_evidence_is_reported_and_review_goes_on(env):
    client, prefix, stubs = env
    stubs.missing = ["city/2026/DG1/gone.pdf"]
    handle, _ = await start(client, prefix)
    result = await handle.result()
    assert result.stage == Stage.COMPLETED
    assert result.missing_evidence == ["city/2026/DG1/gone.pdf"]
    assert stubs.details["in_review"] == "1 evidence file(s) missing from storage"

"""What audit tells the certification workflow: a clarification request and the approved
review. Each is sent right after its transaction commits; the same fact is also an outbox
event whose own consumer sends the signal again (`subscribers.py`), so a signal lost to
an outage still arrives. Both signals are idempotent in the workflow."""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts.activities import ReviewOutcome
from shared.contracts.events import ClarificationRequested, ReviewCompleted
from shared.contracts.workflows import ClarificationRequest, Signal, certification_workflow_id
from shared.infra.logging import get_logger
from shared.infra.runtime import ServiceRuntime

log = get_logger(__name__)


def outcome_of(done: ReviewCompleted) -> ReviewOutcome:
    return ReviewOutcome(case_id=done.case_id, audited_responses=done.final_responses, corrections=done.corrections,
                         changes=done.changes, approved_by=done.approved_by)


def request_of(asked: ClarificationRequested) -> ClarificationRequest:
    return ClarificationRequest(request_id=asked.request_id, criteria=asked.criteria, message=asked.message,
                                due_at=asked.due_at, requested_by=asked.requested_by)


async def _signal(runtime: ServiceRuntime, submission_id: str, name: str, arg, *, strict: bool) -> bool:
    """Signal the submission's workflow. Not strict (just after a request): a failure is
    logged, the outbox consumer delivers it. Strict (that consumer): an unreachable engine
    raises (the event is retried); a workflow that is gone or finished needs nothing."""
    client = runtime.temporal_client
    if client is None:
        if strict:
            raise RuntimeError("Temporal not connected yet")
        return False
    handle = client.get_workflow_handle(certification_workflow_id(submission_id))
    try:
        if strict and (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return False
        await handle.signal(name, arg)
        return True
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            log.warning("workflow.signal_no_workflow", submission_id=submission_id, signal=name)
            return False
        if strict:
            raise
        log.warning("workflow.signal_deferred", submission_id=submission_id, signal=name, error=str(exc)[:300])
        return False


async def clarification_requested(runtime: ServiceRuntime, asked: ClarificationRequested, *,
                                  strict: bool = False) -> bool:
    return await _signal(runtime, asked.submission_id, Signal.REQUEST_CLARIFICATION, request_of(asked), strict=strict)


async def review_completed(runtime: ServiceRuntime, done: ReviewCompleted, *, strict: bool = False) -> bool:
    if done.approved_by is None:
        return False  # auto mode: the review activity returned the outcome itself
    return await _signal(runtime, done.submission_id, Signal.REVIEW_COMPLETED, outcome_of(done), strict=strict)

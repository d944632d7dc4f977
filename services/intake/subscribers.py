"""Intake's event handlers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowExecutionStatus

from services.intake import submissions
from services.intake.config import IntakeOptions
from services.intake.models import Submission
from shared.contracts.events import CaseAssigned, ClarificationAnswered, Envelope, Subject
from shared.contracts.workflows import CaseHolder, ClarificationAnswer, Signal
from shared.infra.runtime import ServiceRuntime


def ensure_workflow_started(runtime: ServiceRuntime, options: IntakeOptions):
    """The submit request starts the workflow at once; this handler is the safety net if
    the process died between commit and start, or Temporal was unreachable then (the event
    comes from the outbox; a failure here is retried with backoff, then parked)."""

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        sub = await session.get(Submission, envelope.submission_id)
        if sub is None:
            raise LookupError(f"no submission {envelope.submission_id}")
        if sub.status != "submitted":
            return  # already running or finished: never start a second run
        if runtime.temporal_client is None:
            raise RuntimeError("Temporal not connected yet")
        # Errors propagate (unlike submit's fast path) so the event is redelivered.
        await submissions.start_workflow(runtime.temporal_client, runtime, sub, options.review_mode)

    return handle


def signal_clarification_answered(runtime: ServiceRuntime):
    """Deliver a stored clarification answer to the workflow (the answer request signals
    at once; this covers a signal that failed or a process that died before sending it)."""

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(ClarificationAnswered)
        sub = await session.get(Submission, p.submission_id)
        if sub is None:
            raise LookupError(f"no submission {p.submission_id}")
        if runtime.temporal_client is None:
            raise RuntimeError("Temporal not connected yet")
        handle = runtime.temporal_client.get_workflow_handle(sub.workflow_id)
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return  # the run has ended: nothing waits for the answer any more
        # Idempotent in the workflow: answered requests are a set.
        await handle.signal(Signal.CLARIFICATION_ANSWERED,
                            ClarificationAnswer(request_id=p.request_id, answered_at=p.answered_at))

    return handle


def relay_case_holder(runtime: ServiceRuntime):
    """Audit's case.assigned / case.released: the workflow keeps who holds the review
    (its status and the WwcAuditor search attribute operators filter by)."""

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        if envelope.type == Subject.CASE_ASSIGNED:
            auditor_id = envelope.payload_as(CaseAssigned).auditor_id
        elif envelope.type == Subject.CASE_RELEASED:
            auditor_id = None
        else:
            return  # another case event: not about its holder
        sub = await session.get(Submission, envelope.submission_id) if envelope.submission_id else None
        if sub is None:
            raise LookupError(f"no submission {envelope.submission_id}")
        if runtime.temporal_client is None:
            raise RuntimeError("Temporal not connected yet")
        handle = runtime.temporal_client.get_workflow_handle(sub.workflow_id)
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return
        await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id=auditor_id, at=envelope.occurred_at))

    return handle

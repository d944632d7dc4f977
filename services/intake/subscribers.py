"""Intake's event handlers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import Envelope
from shared.infra.runtime import ServiceRuntime
from services.intake import submissions
from services.intake.config import IntakeOptions
from services.intake.models import Submission


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

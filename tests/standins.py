"""A stand-in for audit, for stacks that run intake without it: its Temporal worker answers
the workflow's calls on audit's task queue with the contract's types (a case is opened, due
in 21 days), so the workflow waits in review as it does beside the real audit service; and
what audit tells the others goes through audit's real contract (its events on NATS, its
signals to the workflow): `request_clarification` asks the city as an auditor would, and a
round that expires is announced closed."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.worker import Worker

from certification.activities import Activities, ReviewDue, ReviewOpened, ReviewReminder, ReviewRequest, RoundClosed
from certification.contract import ClarificationRequest, Signal, TaskQueue, certification_workflow_id
from shared.contracts.events import ClarificationClosed, ClarificationRequested, Subject, make_event
from shared.infra.temporal import task_queue


@activity.defn(name=Activities.OPEN_REVIEW.name)
async def open_review(req: ReviewRequest) -> ReviewOpened:
    opened = activity.info().current_attempt_scheduled_time
    return ReviewOpened(case_id=f"case-{req.submission_id}", due_at=opened + timedelta(days=21),
                        remind_before=timedelta(days=2))


@activity.defn(name=Activities.SET_REVIEW_DUE.name)
async def set_review_due(_: ReviewDue) -> None:
    return None


@activity.defn(name=Activities.REMIND_REVIEW.name)
async def remind_review(_: ReviewReminder) -> None:
    return None


@activity.defn(name=Activities.CLOSE_ROUND.name)
async def close_round(req: RoundClosed) -> None:
    await publish(activity.info().workflow_id, Subject.CLARIFICATION_CLOSED, ClarificationClosed(
        submission_id=req.submission_id, case_id=req.case_id, request_id=req.request_id))


_NATS: dict[str, str] = {}  # the stand-in's NATS, per running worker


async def publish(_workflow_id: str, subject: str, payload, *, nats_url: str | None = None) -> None:
    """An event as audit publishes it (JetStream, de-duplicated by its id)."""
    import nats

    envelope = make_event(subject, payload, submission_id=payload.submission_id, correlation_id=payload.submission_id)
    nc = await nats.connect(nats_url or _NATS["url"])
    try:
        await nc.jetstream().publish(subject, envelope.model_dump_json().encode(),
                                     headers={"Nats-Msg-Id": str(envelope.event_id)})
    finally:
        await nc.close()


async def request_clarification(runtime, submission_id: str, criteria: list[str], *,
                                due_in: timedelta = timedelta(days=7), message: str = "Please send the documents.",
                                requested_by: str = "auditor-1") -> str:
    """An auditor asks the city: audit's event (intake keeps its copy) and its signal to the
    workflow (which waits for the round)."""
    request_id = str(uuid.uuid4())
    due_at = datetime.now(UTC) + due_in
    await publish("", Subject.CLARIFICATION_REQUESTED, ClarificationRequested(
        submission_id=submission_id, case_id=f"case-{submission_id}", request_id=request_id, criteria=criteria,
        message=message, due_at=due_at, requested_by=requested_by), nats_url=runtime.settings.nats.url)
    await runtime.temporal_client.get_workflow_handle(certification_workflow_id(submission_id)).signal(
        Signal.REQUEST_CLARIFICATION, ClarificationRequest(request_id=request_id, criteria=criteria, message=message,
                                                           due_at=due_at, requested_by=requested_by))
    return request_id


@asynccontextmanager
async def audit_worker(runtime):
    """Runs the stand-in on the runtime's Temporal client while the block runs."""
    _NATS["url"] = runtime.settings.nats.url
    worker = Worker(runtime.temporal_client, task_queue=task_queue(runtime.settings.temporal, TaskQueue.AUDIT),
                    activities=[open_review, set_review_due, remind_review, close_round])
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await asyncio.wait([asyncio.create_task(worker.shutdown())], timeout=15)
        task.cancel()

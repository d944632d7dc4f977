"""A stand-in for audit's Temporal worker, for stacks that run intake without audit: it
answers the workflow's calls on audit's task queue with the contract's types (a case is
opened, due in 21 days), so the workflow waits in review as it does beside the real audit
service, until a test signals it."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.worker import Worker

from shared.contracts.activities import Activities, ReviewDue, ReviewOpened, ReviewReminder, ReviewRequest, RoundClosed
from shared.contracts.workflows import TaskQueue
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
async def close_round(_: RoundClosed) -> None:
    return None


@asynccontextmanager
async def audit_worker(runtime):
    """Runs the stand-in on the runtime's Temporal client while the block runs."""
    worker = Worker(runtime.temporal_client, task_queue=task_queue(runtime.settings.temporal, TaskQueue.AUDIT),
                    activities=[open_review, set_review_due, remind_review, close_round])
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await asyncio.wait([asyncio.create_task(worker.shutdown())], timeout=15)
        task.cancel()

"""The one way any service starts or signals a certification's workflow.

A service records what it tells the workflow in its own transaction, next to the change
that caused it (`start`, `signal`): a row of its `workflow_calls` table, as an event is a
row of its outbox. After the commit, the service's `WorkflowCalls` relay delivers the rows
in order. So a Temporal outage never holds a database lock or fails a request that does
not need Temporal: the rows wait and are delivered once Temporal answers again. Rows are
claimed for a while before delivery, so replicas sharing one database never deliver a row
at the same time, and a relay that died leaves its rows to the next one.

One policy for a workflow that is not running (finished, withdrawn, never started): the
call is marked `not_running` and dropped; the fact it carried stays where the service
stored it. Every signal is idempotent in the workflow, so a call delivered twice (a relay
killed between delivering and marking) changes nothing.

Only the withdrawal, which needs the workflow's yes or no at once, is a direct call
(`withdraw`), made outside any transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from certification.contract import (
    CERTIFICATION_WORKFLOW,
    CertificationInput,
    CertificationStatus,
    Query,
    Signal,
    TaskQueue,
    Update,
    Withdrawal,
    certification_workflow_id,
    initial_search_attributes,
)
from shared.infra.claims import Claim
from shared.infra.db import Database
from shared.infra.logging import get_logger
from shared.infra.tables import workflow_calls

log = get_logger(__name__)
# How long a relay keeps rows it took before another may take them (a relay that died).
CLAIM = timedelta(seconds=60)


class CallKind(StrEnum):
    START = "start"
    SIGNAL = "signal"


class CallOutcome(StrEnum):
    DELIVERED = "delivered"
    NOT_RUNNING = "not_running"  # the workflow has ended (or never ran): nothing waits for it
    ALREADY_STARTED = "already_started"


# --- recording, in the caller's transaction ----------------------------------------------------


async def signal(session: AsyncSession, submission_id: str, name: Signal, payload: BaseModel) -> None:
    """Tell the submission's workflow `name` with `payload`, once this transaction commits."""
    await _record(session, certification_workflow_id(submission_id), CallKind.SIGNAL, name, payload)


async def start(session: AsyncSession, inp: CertificationInput) -> None:
    """Start the submission's workflow once this transaction commits (a second start of the
    same submission is recorded as `already_started`)."""
    await _record(session, certification_workflow_id(inp.submission_id), CallKind.START, CERTIFICATION_WORKFLOW, inp)


async def _record(session: AsyncSession, workflow_id: str, kind: CallKind, name: str, payload: BaseModel) -> None:
    await session.execute(workflow_calls.insert().values(
        id=str(uuid.uuid4()), workflow_id=workflow_id, kind=kind.value, name=name,
        payload=payload.model_dump(mode="json"), outcome="", attempts=0))


# --- delivery, after commit --------------------------------------------------------------------


class WorkflowCalls:
    """A service's relay of its recorded calls to Temporal."""

    def __init__(self, db: Database, client: Callable[[], Client | None], *, task_queue_prefix: str = "",
                 poll_interval: float = 1.0, batch_size: int = 50) -> None:
        self.db, self._client = db, client
        self.task_queue = f"{task_queue_prefix}{TaskQueue.INTAKE}"  # the workflow's host
        self.poll_interval, self.batch_size = poll_interval, batch_size
        self.claim = Claim(db, workflow_calls, workflow_calls.c.delivered_at, lease=CLAIM,
                           in_order_of=workflow_calls.c.workflow_id)
        self._wake = asyncio.Event()
        self.delivered = 0
        self.deferred = 0  # rounds in a row that Temporal could not take a call

    def notify(self) -> None:
        """Callers wake the relay after commit instead of leaving the call to the next poll."""
        self._wake.set()

    async def deliver_once(self) -> int:
        """Deliver what is due, in order; stop at the first call Temporal could not take
        (it is retried on the next round, and later calls must not overtake it)."""
        client = self._client()
        if client is None:
            return 0
        rows = await self._claim()
        done = 0
        for row in rows:
            if not self.claim.holds():
                # Given back at once: a later take must not pass over these rows and deliver
                # a later call of the same workflow first.
                await self.claim.release()
                break
            try:
                outcome = await self._deliver(client, row)
            except Exception as exc:  # Temporal unreachable or refusing: keep the row
                self.deferred += 1
                if self.deferred == 1 or self.deferred % 30 == 0:  # said once, then now and then
                    log.warning("workflow_call.deferred", workflow_id=row.workflow_id, call=row.name,
                                rounds=self.deferred, error=str(exc)[:300])
                await self._mark(row.seq, attempts=row.attempts + 1, last_error=str(exc)[:2000])
                await self.claim.release()  # any replica may try again
                break
            self.deferred = 0
            if outcome is CallOutcome.NOT_RUNNING:
                log.info("workflow_call.not_running", workflow_id=row.workflow_id, call=row.name)
            await self._mark(row.seq, delivered_at=datetime.now(UTC), outcome=outcome.value, attempts=row.attempts + 1)
            done += 1
        self.delivered += done
        return done

    async def _claim(self) -> list:
        return await self.claim.take(self.batch_size)

    async def _mark(self, seq: int, **values) -> None:
        async with self.db.transaction() as session:
            await session.execute(update(workflow_calls).where(workflow_calls.c.seq == seq).values(**values))

    async def _deliver(self, client: Client, row) -> CallOutcome:
        if row.kind == CallKind.START:
            inp = CertificationInput.model_validate(row.payload)
            try:
                await client.start_workflow(
                    CERTIFICATION_WORKFLOW, inp, id=row.workflow_id, task_queue=self.task_queue,
                    search_attributes=initial_search_attributes(inp),
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
            except WorkflowAlreadyStartedError:
                return CallOutcome.ALREADY_STARTED
            return CallOutcome.DELIVERED
        try:
            await client.get_workflow_handle(row.workflow_id).signal(row.name, row.payload)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:  # ended, or never started
                return CallOutcome.NOT_RUNNING
            raise
        return CallOutcome.DELIVERED

    async def run(self) -> None:
        try:
            await self._run()
        finally:  # stopped on purpose: another replica need not wait for the claim to expire
            try:
                await self.claim.release()
            except Exception as exc:
                log.warning("workflow_call.release_failed", error=str(exc)[:300])

    async def _run(self) -> None:
        while True:
            try:
                done = await self.deliver_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database, most likely: next round
                log.warning("workflow_call.relay_error", error=str(exc)[:300])
                done = 0
            if done:  # more may be due: a workflow's next call waits for its previous one
                continue
            self._wake.clear()
            # While Temporal is away, try again less often (up to every 10 s); a commit
            # still wakes the relay at once.
            wait = min(self.poll_interval * 2 ** min(self.deferred, 4), 10.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    async def pending(self) -> int:
        async with self.db.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(workflow_calls)
                                        .where(workflow_calls.c.delivered_at.is_(None)))


# --- the one direct call ---------------------------------------------------------------------


class WithdrawalRefused(Exception):
    """The workflow refused (scoring has started) or its run ended meanwhile."""


async def withdraw(client: Client, submission_id: str, withdrawal: Withdrawal, *,
                   wait_seconds: float) -> tuple[CertificationStatus | None, bool]:
    """Ask the workflow to withdraw: it answers at once whether it accepts (its validator
    refuses once scoring has started), then completes when the withdrawal is recorded;
    (its status when done, or None while it finishes its current step; done)."""
    handle = client.get_workflow_handle(certification_workflow_id(submission_id))
    try:
        accepted = await handle.start_update(Update.WITHDRAW, withdrawal, wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                                             result_type=CertificationStatus)
    except WorkflowUpdateFailedError as exc:
        raise WithdrawalRefused(str(exc)) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # the run has ended
            raise WithdrawalRefused(str(exc)) from None
        raise
    try:
        return await asyncio.wait_for(accepted.result(), timeout=wait_seconds), True
    except TimeoutError:  # accepted; the workflow acts when its current step ends
        return None, False


async def running(client: Client, submission_id: str) -> bool:
    """Whether the submission's workflow is running now (for operators' tools)."""
    try:
        desc = await client.get_workflow_handle(certification_workflow_id(submission_id)).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return desc.status == WorkflowExecutionStatus.RUNNING


async def status(client: Client, submission_id: str) -> CertificationStatus | None:
    """The workflow's own view (operators' tools; pages read the services' own records)."""
    try:
        return await client.get_workflow_handle(certification_workflow_id(submission_id)).query(
            Query.STATUS, result_type=CertificationStatus)
    except RPCError:
        return None


def install(runtime) -> WorkflowCalls:
    """A service's relay of its workflow calls, run by its runtime (`shared.infra.runtime`)."""
    relay = WorkflowCalls(runtime.db, lambda: runtime.temporal_client,
                          task_queue_prefix=runtime.settings.temporal.task_queue_prefix)
    runtime.add_relay(relay, "workflow-calls")
    return relay

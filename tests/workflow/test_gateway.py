"""certification.gateway: calls recorded in a service's transaction are delivered after
commit, in order, once each, by whichever relay claims them (replicas share a database);
a relay that died leaves its rows to the next; a workflow that is not running gets one
answer (`not_running`), and a rolled-back transaction tells the workflow nothing.
Real Temporal and database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from temporalio.client import Client
from temporalio.worker import Worker

from certification import gateway
from certification.contract import CaseHolder, Signal, certification_workflow_id
from devtools.harness import migrated_database
from shared.infra.tables import workflow_calls
from shared.infra.temporal import DATA_CONVERTER
from tests.infra.test_consumer import eventually
from tests.workflow.signal_probe import SignalProbe


@pytest.fixture
async def db(backend, tmp_path):
    async with migrated_database("audit", backend, tmp_path) as database:
        yield database


@pytest.fixture
async def probe(temporal_server):
    """A running SignalProbe with a submission's workflow id, and the Temporal client."""
    client = await Client.connect(temporal_server.address, data_converter=DATA_CONVERTER)
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    submission_id = uuid.uuid4().hex
    async with Worker(client, task_queue=queue, workflows=[SignalProbe]):
        handle = await client.start_workflow(SignalProbe.run, id=certification_workflow_id(submission_id),
                                             task_queue=queue)
        yield client, submission_id, handle
        await handle.signal("done")


def holder(i: int) -> CaseHolder:
    return CaseHolder(auditor_id=f"auditor-{i}", at=datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=i))


async def rows(db) -> list:
    async with db.sessionmaker() as session:
        return list((await session.execute(select(workflow_calls).order_by(workflow_calls.c.seq))).all())


async def test_two_relays_deliver_every_call_once_and_in_order(db, probe):
    client, submission_id, handle = probe
    for batch in (range(0, 10), range(10, 20)):
        async with db.transaction() as session:
            for i in batch:
                await gateway.signal(session, submission_id, Signal.CASE_HOLDER, holder(i))
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:  # rolled back: nothing is told
            await gateway.signal(session, submission_id, Signal.CASE_HOLDER, holder(99))
            raise RuntimeError("the change failed")

    one, two = (gateway.WorkflowCalls(db, lambda: client, batch_size=3) for _ in range(2))
    while await one.pending():
        await one.deliver_once()
        await two.deliver_once()

    received = await handle.query("received")
    assert [name for name, _ in received] == [Signal.CASE_HOLDER] * 20
    assert [value["auditor_id"] for _, value in received] == [f"auditor-{i}" for i in range(20)]
    assert one.delivered + two.delivered == 20 and one.delivered and two.delivered  # both took a share
    assert {r.outcome for r in await rows(db)} == {"delivered"}


async def test_a_workflows_later_call_waits_while_another_relay_holds_its_earlier_one(db, probe):
    # Replicas claim separate batches: without this, one could deliver a workflow's second
    # call while another still holds its first (a signal overtaking its workflow's start).
    client, submission_id, handle = probe
    other = uuid.uuid4().hex  # no workflow: answered `not_running`
    async with db.transaction() as session:
        await gateway.signal(session, submission_id, Signal.CASE_HOLDER, holder(1))
        await gateway.signal(session, submission_id, Signal.CASE_HOLDER, holder(2))
        await gateway.signal(session, other, Signal.CASE_HOLDER, holder(3))
    first = gateway.WorkflowCalls(db, lambda: client)
    taken = [r.payload["auditor_id"] for r in await first._claim()]
    assert taken == ["auditor-1", "auditor-3"]  # one call per workflow at a time
    second = gateway.WorkflowCalls(db, lambda: client)
    assert await second.deliver_once() == 0  # auditor-2 waits: its earlier call is held elsewhere
    await first.claim.release()  # (the first relay gave up before delivering)
    assert await second.deliver_once() == 2 and await second.deliver_once() == 1
    assert [v["auditor_id"] for _, v in await handle.query("received")] == ["auditor-1", "auditor-2"]


async def test_a_dead_relays_calls_are_taken_up_once_its_claim_expires(db, probe):
    client, submission_id, handle = probe
    async with db.transaction() as session:
        await gateway.signal(session, submission_id, Signal.CASE_HOLDER, holder(1))
    dead = gateway.WorkflowCalls(db, lambda: client)
    claimed = await dead._claim()  # took the row, then its process was killed
    assert len(claimed) == 1
    survivor = gateway.WorkflowCalls(db, lambda: client)
    assert await survivor.deliver_once() == 0  # the claim still holds
    async with db.transaction() as session:  # ... until it expires
        await session.execute(update(workflow_calls).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert await survivor.deliver_once() == 1
    assert [v["auditor_id"] for _, v in await handle.query("received")] == ["auditor-1"]


async def test_a_workflow_that_is_not_running_gets_one_answer(db, temporal_server):
    client = await Client.connect(temporal_server.address, data_converter=DATA_CONVERTER)
    async with db.transaction() as session:
        await gateway.signal(session, uuid.uuid4().hex, Signal.CASE_HOLDER, holder(1))
    relay = gateway.WorkflowCalls(db, lambda: client)
    assert await relay.deliver_once() == 1
    [row] = await rows(db)
    assert row.outcome == "not_running" and row.delivered_at is not None and await relay.pending() == 0


async def test_calls_wait_while_the_engine_is_unreachable(db, probe):
    client, submission_id, handle = probe
    async with db.transaction() as session:
        await gateway.signal(session, submission_id, Signal.CASE_HOLDER, holder(1))
        await gateway.signal(session, submission_id, Signal.CASE_HOLDER, holder(2))
    offline = gateway.WorkflowCalls(db, lambda: None)  # not connected yet (the outage test stops it)
    assert await offline.deliver_once() == 0 and await offline.pending() == 2
    relay = gateway.WorkflowCalls(db, lambda: client)
    await eventually(lambda: _drained(relay), timeout=30)
    assert [v["auditor_id"] for _, v in await handle.query("received")] == ["auditor-1", "auditor-2"]


async def _drained(relay) -> bool:
    await relay.deliver_once()
    return await relay.pending() == 0

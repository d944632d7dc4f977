"""What operators and clients see when things go wrong under load: an activity's real cause
(not "Failure exceeds size limit."), and a clear `busy` answer when every database
connection is taken (not a stall, not a bare 500)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from shared.infra.db import Database
from shared.infra.temporal import DATA_CONVERTER
from shared.web.problems import COMMON_ERRORS, install_problem_handlers

CAUSE = "the evidence store refused the write: quota of bucket wwc-evidence exceeded"


@activity.defn(name="wwc.test.verbose_failure")
async def verbose_failure() -> None:
    # A real cause first, then pages of detail (a driver's dump, a long traceback chain).
    try:
        raise ValueError("inner detail " * 2000)
    except ValueError as inner:
        raise RuntimeError(f"{CAUSE}; {'detail ' * 5000}") from inner


@workflow.defn(name="VerboseFailureProbe")
class VerboseFailureProbe:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("wwc.test.verbose_failure", start_to_close_timeout=timedelta(seconds=10),
                                        retry_policy=RetryPolicy(initial_interval=timedelta(seconds=30)))


async def test_a_retrying_step_shows_its_real_cause_to_operators(temporal_server):
    client = await Client.connect(temporal_server.address, data_converter=DATA_CONVERTER)
    queue = f"fail-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, activities=[verbose_failure], workflows=[VerboseFailureProbe],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        handle = await client.start_workflow(VerboseFailureProbe.run, id=queue, task_queue=queue)
        for _ in range(200):  # until the first attempt has failed (no fixed wait)
            pending = (await handle.describe()).raw_description.pending_activities
            if pending and pending[0].HasField("last_failure"):
                break
            await asyncio.sleep(0.05)
        failure = pending[0].last_failure
        await handle.terminate()
    assert failure.message.startswith(f"{CAUSE}; detail")  # what `wwc ops failing` prints
    assert "Failure exceeds size limit" not in failure.message
    assert failure.application_failure_info.type == "RuntimeError"
    assert failure.cause.message.startswith("inner detail")  # the chain is kept, cut short


@pytest.fixture
async def one_connection_db(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0, pool_timeout=0.3)
    yield db
    await db.dispose()


async def test_no_free_connection_answers_busy_with_retry_after(one_connection_db):
    app = FastAPI()
    install_problem_handlers(app, COMMON_ERRORS)

    @app.get("/count")
    async def count() -> dict:
        async with one_connection_db.sessionmaker() as session:
            return {"n": await session.scalar(text("SELECT 1"))}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    assert (await client.get("/count")).json() == {"n": 1}
    async with one_connection_db.engine.connect():  # the only connection, held elsewhere
        r = await client.get("/count")
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == "busy"
    assert (await client.get("/count")).status_code == 200  # free again: served

"""Intake-only stacks (real NATS, Temporal, S3 and SQLite or PostgreSQL) for the API tests.

Reviews run in "auditor" mode, so a submission's workflow waits in review until a test
signals it. Audit does not run here: a stand-in worker answers the workflow's calls on
audit's task queue with the contract's types (a case is opened, due in 21 days), so the
workflow behaves as it does beside the real audit service."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from devtools.harness import Stack
from services.intake.config import IntakeOptions
from tests.standins import audit_worker


@pytest.fixture
async def make_intake(infra, backend, tmp_path):
    stacks: list[Stack] = []
    workers = AsyncExitStack()

    async def make(**options) -> Stack:
        opts = IntakeOptions(**{"review_mode": "auditor", **options})
        stack = Stack(infra=infra, backend=backend, tmp=tmp_path / f"stack{len(stacks)}", services=("intake",),
                      build_kwargs={"intake": {"options": opts}})
        stacks.append(stack)
        await stack.start()
        await workers.enter_async_context(audit_worker(stack.runtimes["intake"]))
        return stack

    yield make
    await workers.aclose()
    for stack in stacks:
        await stack.stop()


@pytest.fixture
async def intake(make_intake) -> Stack:
    return await make_intake()

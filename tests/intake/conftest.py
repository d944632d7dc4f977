"""Intake-only stacks (real NATS, Temporal, S3 and SQLite or PostgreSQL) for the API tests.

Reviews run in "auditor" mode, so a submission's workflow waits in review (no other
service runs here) until a test signals it."""

from __future__ import annotations

import pytest

from services.intake.config import IntakeOptions
from devtools.harness import Stack


@pytest.fixture
async def make_intake(infra, backend, tmp_path):
    stacks: list[Stack] = []

    async def make(**options) -> Stack:
        opts = IntakeOptions(**{"review_mode": "auditor", **options})
        stack = Stack(infra=infra, backend=backend, tmp=tmp_path / f"stack{len(stacks)}", services=("intake",),
                      build_kwargs={"intake": {"options": opts}})
        stacks.append(stack)
        return await stack.start()

    yield make
    for stack in stacks:
        await stack.stop()


@pytest.fixture
async def intake(make_intake) -> Stack:
    return await make_intake()

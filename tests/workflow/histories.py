"""Recorded histories of the certification workflow, one per path a real run can take.

The replay test (test_replay.py) runs the current workflow code over each of them: a change
that would break workflows already running (which wait weeks for auditors and cities)
fails the suite unless it is guarded by `workflow.patched`.

Record them again only when a change is deliberately incompatible and no run of the old
code can still be open (say so in docs/DECISIONS.md):

    .venv/bin/python -m tests.workflow.histories [path ...]   # only those paths

(a new path is recorded alone, so the others stay as recorded by the code they ran on).

Each path is played against the stub services (tests/workflow/stubs.py) on a dev server
with time skipping, so the days between steps pass in seconds."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from shared.infra.temporal import DATA_CONVERTER
from temporalio.testing import TimeSkipper

from certification.contract import (
    AppealDecided,
    AppealDecision,
    AppealedCriterion,
    AppealFiled,
    CaseHolder,
    ClarificationAnswer,
    DebriefBooking,
    DebriefResult,
    Signal,
    Stage,
    StepRetry,
    Update,
    Withdrawal,
)
from tests.workflow.stubs import (
    REMIND_BEFORE,
    SLA,
    Stubs,
    approved,
    clarification,
    running_workers,
    start,
    status,
    wait_for,
    wait_stage,
)

DIR = Path(__file__).parent / "histories"

Path_ = Callable[[Client, str, Stubs], Awaitable[WorkflowHandle]]


async def _finish(handle: WorkflowHandle, outcome: str = "declined") -> None:
    await wait_stage(handle, Stage.DEBRIEF)
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome=outcome))
    await handle.result()


async def completed(client: Client, prefix: str, stubs: Stubs) -> WorkflowHandle:
    """Submitted, reviewed by an auditor, scored, reported, debrief declined."""
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id="auditor-1", at=datetime.now(UTC)))
    await handle.signal(Signal.REVIEW_COMPLETED, approved())
    await _finish(handle)
    return handle


async def withdrawn(client: Client, prefix: str, stubs: Stubs) -> WorkflowHandle:
    """The city withdraws while the review is open."""
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.execute_update(Update.WITHDRAW, Withdrawal(reason="We will apply next cycle."))
    await handle.result()
    return handle


async def clarification_answered(client: Client, prefix: str, stubs: Stubs) -> WorkflowHandle:
    """An auditor asks; the city is reminded before the due date, then answers (the
    review clock pauses meanwhile); the review is approved."""
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=14))
    await wait_stage(handle, Stage.CLARIFICATION)
    assert await TimeSkipper(client).fast_forward(handle, timedelta(days=13))
    await wait_for(lambda: asyncio.sleep(0, result=stubs.clarification_reminders))
    await handle.signal(Signal.CLARIFICATION_ANSWERED,
                        ClarificationAnswer(request_id="q1", answered_at=datetime.now(UTC)))
    await wait_stage(handle, Stage.IN_REVIEW)
    await wait_for(lambda: asyncio.sleep(0, result=stubs.due_dates))
    await handle.signal(Signal.REVIEW_COMPLETED, approved())
    await _finish(handle)
    return handle


async def auditor_returned(client: Client, prefix: str, stubs: Stubs) -> WorkflowHandle:
    """The case goes back: a clarification round expires unanswered (the case returns to
    its auditor), the auditor releases it to the queue, another claims it, the review runs
    past its due date (reminder, then escalation) and is approved."""
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    skipper = TimeSkipper(client)
    now = datetime.now(UTC)
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id="auditor-1", at=now))
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=3))
    await wait_stage(handle, Stage.CLARIFICATION)
    assert await skipper.fast_forward(handle, timedelta(days=4))
    await wait_for(lambda: asyncio.sleep(0, result=stubs.closed_rounds))
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id=None, at=now + timedelta(seconds=1)))
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id="auditor-2", at=now + timedelta(seconds=2)))
    assert await skipper.fast_forward(handle, SLA + REMIND_BEFORE)
    await wait_for(lambda: asyncio.sleep(0, result=len(stubs.reminders) == 2))
    await handle.signal(Signal.REVIEW_COMPLETED, approved({"DG1": "NO"}))
    await _finish(handle)
    return handle


async def debrief_booked(client: Client, prefix: str, stubs: Stubs) -> WorkflowHandle:
    """The city books the debrief, moves it, is reminded a day and an hour before, and the
    call is held."""
    handle, _ = await start(client, prefix)
    await wait_stage(handle, Stage.DEBRIEF)
    starts = datetime.now(UTC) + timedelta(days=5)
    await handle.signal(Signal.DEBRIEF_BOOKED, DebriefBooking(booking_id="b-1", starts_at=starts))
    await handle.signal(Signal.DEBRIEF_BOOKED,
                        DebriefBooking(booking_id="b-1", starts_at=starts + timedelta(days=2), sequence=1))

    async def booked():
        s = await status(handle)
        return s.debrief_starts_at == starts + timedelta(days=2)

    await wait_for(booked)
    assert await TimeSkipper(client).fast_forward(handle, timedelta(days=7))
    await wait_for(lambda: asyncio.sleep(0, result=len(stubs.debrief_reminders) == 2))
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="held", notes="Good call."))
    await handle.result()
    return handle


async def step_failed_and_retried(client: Client, prefix: str, stubs: Stubs) -> WorkflowHandle:
    """Scoring fails on bad data; an operator fixes the cause and retries the step."""
    stubs.bad_scoring = True
    handle, _ = await start(client, prefix)

    async def failing():
        return (await status(handle)).failing_step

    await wait_for(failing)
    stubs.bad_scoring = False
    await handle.signal(Signal.RETRY_STEP, StepRetry(by="operator-1"))
    await _finish(handle)
    return handle


async def appealed(client: Client, prefix: str, stubs: Stubs) -> WorkflowHandle:
    """Completed with an audited change; within the window the city appeals it; the appeal
    runs past its due date (reminder, then escalation); independent auditors overturn it:
    re-scored, the report reissued (version 2), the outcome mailed, completed again."""
    handle, _ = await start(client, prefix, review_mode="auditor", appeal_window_days=30)
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id="auditor-1", at=datetime.now(UTC)))
    await handle.signal(Signal.REVIEW_COMPLETED, approved({"DG1": "NO"}))
    await wait_stage(handle, Stage.DEBRIEF)
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="declined"))

    async def window_open():
        return (await status(handle)).appeal_open_until

    await wait_for(window_open)
    await handle.signal(Signal.APPEAL_FILED, AppealFiled(
        appeal_id="appeal-1", criteria=["DG1"], filed_at=datetime.now(UTC), filed_by_name="Dana Cruz",
        statements=[AppealedCriterion(criterion_id="DG1", statement="The policy was adopted in March.")]))
    await wait_stage(handle, Stage.APPEAL)
    await wait_for(lambda: asyncio.sleep(0, result=stubs.appeals))
    assert await TimeSkipper(client).fast_forward(handle, timedelta(days=15))
    await wait_for(lambda: asyncio.sleep(0, result=len(stubs.appeal_reminders) == 2))
    await handle.signal(Signal.APPEAL_DECIDED, AppealDecided(
        appeal_id="appeal-1", decided_by="auditor-3", signed_off_by="auditor-4", decided_at=datetime.now(UTC),
        decisions=[AppealDecision(criterion_id="DG1", outcome="overturned", response="YES", reason_code="other",
                                  explanation="The minutes show the adoption.")]))
    await handle.result()
    return handle


PATHS: dict[str, Path_] = {
    "completed": completed,
    "withdrawn": withdrawn,
    "clarification": clarification_answered,
    "auditor_returned": auditor_returned,
    "debrief_booked": debrief_booked,
    "step_failed_and_retried": step_failed_and_retried,
    "appealed": appealed,
}


def load() -> dict[str, str]:
    """name -> the history's JSON, as recorded."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(DIR.glob("*.json"))}


async def record(address: str, only: list[str] | None = None) -> None:
    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    DIR.mkdir(exist_ok=True)
    for name, play in PATHS.items():
        if only and name not in only:
            continue
        stubs = Stubs()
        prefix = f"rec{uuid.uuid4().hex[:6]}-"
        async with running_workers(client, prefix, stubs):
            handle = await play(client, prefix, stubs)
        history = await handle.fetch_history()
        # Pretty-printed so a diff of a re-recording can be read.
        (DIR / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n",
                                          encoding="utf-8")
        print(f"recorded {name}: {len(history.events)} events")


def main() -> None:
    import sys

    from devtools import devstack

    server = devstack.start_temporal(devstack.free_port(), time_skipping=True)
    try:
        asyncio.run(record(server.address, sys.argv[1:] or None))
    finally:
        server.stop()


if __name__ == "__main__":
    main()

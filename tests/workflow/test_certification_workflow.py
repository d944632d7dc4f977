"""CertificationWorkflow on the real Temporal dev server, with stub activities registered
under the real names on each service's task queue (a unique prefix per test). Timers run
at realistic durations (days) and are reached by fast-forwarding the workflow's own clock
(temporalio's time-skipping `TimeSkipper`), never by waiting."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from shared.infra.temporal import DATA_CONVERTER
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.testing import TimeSkipper

from certification.contract import (
    CERTIFICATION_WORKFLOW,
    CaseHolder,
    WaitingFor,
    CertificationStatus,
    ClarificationAnswer,
    DebriefBooking,
    DebriefCancellation,
    DebriefResult,
    SearchAttributes,
    Signal,
    Stage,
    StepRetry,
    Update,
    Withdrawal,
)

from tests.workflow.stubs import (
    OFFER_WINDOW,
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


@pytest.fixture
async def env(temporal_server):
    client = await Client.connect(temporal_server.address, data_converter=DATA_CONVERTER)
    prefix = f"wf{uuid.uuid4().hex[:8]}-"
    stubs = Stubs()
    async with running_workers(client, prefix, stubs):
        yield client, prefix, stubs


# --- the whole path -------------------------------------------------------------------------


async def test_auto_mode_calls_every_service_in_order(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix)
    await wait_stage(handle, Stage.DEBRIEF)
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="declined"))
    result = await handle.result()
    assert result.stage == Stage.COMPLETED and result.debrief_outcome == "declined"
    assert stubs.calls == ["evidence", "audit", "scoring", "reporting", "notify"]
    assert stubs.statuses == ["evidence_check", "in_review", "scoring", "reporting", "debrief", "completed"]
    assert result.report_id == "r-1" and result.report_url == "http://reports/r-1" and result.debrief_offer_id == "o-1"


async def test_auditor_mode_opens_a_case_and_waits_for_the_approved_review(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    s = await wait_stage(handle, Stage.IN_REVIEW)
    assert s.review_case_id == "case-1" and s.waiting_for == "auditor"
    assert s.review_due_at == stubs.opened_at + SLA
    await handle.signal(Signal.REVIEW_COMPLETED, approved({"DG1": "NO"}))
    await wait_stage(handle, Stage.DEBRIEF)
    # The debrief stage is entered before its offer goes out (notify): wait for the offer.
    await wait_for(lambda: asyncio.sleep(0, result="notify" in stubs.calls), timeout=120)
    assert stubs.calls == ["evidence", "open_review", "scoring", "reporting", "notify"]


# --- the review clock -----------------------------------------------------------------------


async def test_the_holder_is_reminded_before_the_due_date_and_operators_after_it(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    due = stubs.opened_at + SLA
    skipper = TimeSkipper(client)
    assert await skipper.fast_forward(handle, SLA - REMIND_BEFORE - timedelta(hours=1))
    assert stubs.reminders == []  # 2 days and an hour before: nothing yet
    assert await skipper.fast_forward(handle, timedelta(hours=2))
    await wait_for(lambda: asyncio.sleep(0, result=stubs.reminders))
    assert stubs.reminders == [("due_soon", due)]
    assert await skipper.fast_forward(handle, REMIND_BEFORE)
    await wait_for(lambda: asyncio.sleep(0, result=len(stubs.reminders) == 2))
    assert stubs.reminders == [("due_soon", due), ("overdue", due)]
    assert await skipper.fast_forward(handle, timedelta(days=5))
    assert len(stubs.reminders) == 2  # each is sent once
    await handle.signal(Signal.REVIEW_COMPLETED, approved())
    await wait_stage(handle, Stage.DEBRIEF)


async def test_a_clarification_round_pauses_the_review_clock(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    skipper = TimeSkipper(client)
    assert await skipper.fast_forward(handle, timedelta(days=5))
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=30))
    s = await wait_stage(handle, Stage.CLARIFICATION)
    assert s.waiting_for == "city"
    assert await skipper.fast_forward(handle, timedelta(days=10))  # the city takes ten days
    await handle.signal(Signal.CLARIFICATION_ANSWERED,
                        ClarificationAnswer(request_id="q1", answered_at=datetime.now(UTC)))
    s = await wait_stage(handle, Stage.IN_REVIEW)
    await wait_for(lambda: asyncio.sleep(0, result=stubs.due_dates))
    [new_due] = stubs.due_dates
    moved = new_due - (stubs.opened_at + SLA)
    assert timedelta(days=10) <= moved < timedelta(days=10, hours=1), moved
    assert s.review_due_at == new_due
    # The reminder follows the new due date: none at the old one.
    assert await skipper.fast_forward(handle, timedelta(days=16) - REMIND_BEFORE)
    assert stubs.reminders == []
    assert await skipper.fast_forward(handle, timedelta(days=11))
    await wait_for(lambda: asyncio.sleep(0, result=stubs.reminders))
    assert stubs.reminders[0] == ("due_soon", new_due)


async def test_clarification_holds_review_until_answered(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=14))
    s = await wait_stage(handle, Stage.CLARIFICATION)
    assert [c.request_id for c in s.open_clarifications] == ["q1"]
    # An auditor decision while a round is open does not end the review, even ten days on.
    await handle.signal(Signal.REVIEW_COMPLETED, approved({"DG1": "NO"}))
    assert await TimeSkipper(client).fast_forward(handle, timedelta(days=10))
    s = await status(handle)
    assert s.stage == Stage.CLARIFICATION and s.expired_clarifications == []
    await handle.signal(Signal.CLARIFICATION_ANSWERED, ClarificationAnswer(request_id="q1", answered_at=datetime.now(UTC)))
    s = await wait_stage(handle, Stage.DEBRIEF)
    assert s.answered_clarifications == ["q1"] and s.open_clarifications == []
    assert "audit" not in stubs.calls  # the auditors' signal carried the review
    assert stubs.statuses.count("clarification") == 1


async def test_an_unanswered_round_expires_at_its_due_date_and_returns_the_case(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=14))
    await wait_stage(handle, Stage.CLARIFICATION)
    skipper = TimeSkipper(client)
    assert await skipper.fast_forward(handle, timedelta(days=11, hours=23))
    assert stubs.clarification_reminders == []
    assert await skipper.fast_forward(handle, timedelta(hours=2))  # two days before it is due
    await wait_for(lambda: asyncio.sleep(0, result=stubs.clarification_reminders))
    assert stubs.clarification_reminders == ["q1"]
    assert await skipper.fast_forward(handle, timedelta(days=1))
    assert (await status(handle)).stage == Stage.CLARIFICATION  # a day before it is due: still open
    assert await skipper.fast_forward(handle, timedelta(days=2))
    s = await wait_stage(handle, Stage.IN_REVIEW)
    assert s.expired_clarifications == ["q1"] and s.open_clarifications == []
    assert stubs.closed_rounds == ["q1"]  # audit gets the case back with what exists
    await handle.signal(Signal.REVIEW_COMPLETED, approved())
    await wait_stage(handle, Stage.DEBRIEF)


# --- withdrawal -----------------------------------------------------------------------------


async def test_withdraw_before_scoring_answers_at_once_and_ends_without_scoring(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    confirmed = await handle.execute_update(Update.WITHDRAW, Withdrawal(reason="We will apply next cycle."),
                                            result_type=CertificationStatus)
    assert confirmed.stage == Stage.WITHDRAWN and confirmed.withdrawn_reason == "We will apply next cycle."
    result = await handle.result()
    assert result.stage == Stage.WITHDRAWN
    assert "scoring" not in stubs.calls
    assert stubs.statuses[-1] == "withdrawn"


async def test_withdraw_while_scoring_is_refused(env):
    client, prefix, stubs = env
    stubs.release_scoring = asyncio.Event()
    handle, _ = await start(client, prefix)
    await stubs.scoring_started.wait()
    assert (await status(handle)).stage == Stage.SCORING
    with pytest.raises(WorkflowUpdateFailedError):  # scoring is running: an immediate no
        await handle.execute_update(Update.WITHDRAW, Withdrawal(reason="too late"))
    stubs.release_scoring.set()
    await wait_stage(handle, Stage.DEBRIEF)
    s = await status(handle)
    assert s.withdrawn_reason is None and "withdrawn" not in stubs.statuses


async def test_a_finished_run_takes_no_more_signals(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix)
    await wait_stage(handle, Stage.DEBRIEF)
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="declined"))
    await handle.result()
    with pytest.raises(RPCError):
        await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="held"))


async def test_duplicate_start_is_rejected(env):
    client, prefix, _ = env
    handle, inp = await start(client, prefix, review_mode="auditor")
    with pytest.raises(WorkflowAlreadyStartedError):
        await client.start_workflow(CERTIFICATION_WORKFLOW, inp, id=handle.id, task_queue=f"{prefix}intake",
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    await handle.execute_update(Update.WITHDRAW, Withdrawal())


async def test_missing_evidence_is_reported_and_review_goes_on(env):
    client, prefix, stubs = env
    stubs.missing = ["city/2026/DG1/gone.pdf"]
    handle, _ = await start(client, prefix)
    s = await wait_stage(handle, Stage.DEBRIEF)
    assert s.missing_evidence == ["city/2026/DG1/gone.pdf"]
    assert stubs.details["in_review"] == "1 evidence file(s) missing from storage"


# --- debrief --------------------------------------------------------------------------------


async def test_debrief_reminders_a_day_and_an_hour_before_follow_a_moved_call(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix)
    await wait_stage(handle, Stage.DEBRIEF)
    skipper = TimeSkipper(client)
    starts = datetime.now(UTC) + timedelta(days=7)
    await handle.signal(Signal.DEBRIEF_BOOKED, DebriefBooking(booking_id="b1", starts_at=starts, sequence=0))
    assert await skipper.fast_forward(handle, timedelta(days=3))
    moved = starts + timedelta(days=4)  # the city reschedules
    await handle.signal(Signal.DEBRIEF_BOOKED, DebriefBooking(booking_id="b1", starts_at=moved, sequence=1))
    assert await skipper.fast_forward(handle, timedelta(days=4))
    assert stubs.debrief_reminders == []  # nothing at the old time
    assert await skipper.fast_forward(handle, timedelta(days=4))
    await wait_for(lambda: asyncio.sleep(0, result=len(stubs.debrief_reminders) == 2))
    assert stubs.debrief_reminders == [("day", moved), ("hour", moved)]
    s = await status(handle)
    assert s.waiting_for == "auditor (call outcome)" and s.debrief_starts_at == moved
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="held", notes="Walked through GM."))
    result = await handle.result()
    assert result.stage == Stage.COMPLETED and result.debrief_outcome == "held"


async def test_a_cancelled_call_waits_for_a_new_booking_and_an_offer_nobody_books_expires(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix)
    await wait_stage(handle, Stage.DEBRIEF)
    skipper = TimeSkipper(client)
    starts = datetime.now(UTC) + timedelta(days=5)
    await handle.signal(Signal.DEBRIEF_BOOKED, DebriefBooking(booking_id="b1", starts_at=starts))
    assert await skipper.fast_forward(handle, timedelta(days=1))
    await handle.signal(Signal.DEBRIEF_CANCELLED, DebriefCancellation(booking_id="b1"))
    # The booking's signal delivered again after the cancellation does not bring it back.
    await handle.signal(Signal.DEBRIEF_BOOKED, DebriefBooking(booking_id="b1", starts_at=starts))
    assert (await status(handle)).debrief_starts_at is None
    assert await skipper.fast_forward(handle, timedelta(days=6))
    assert stubs.debrief_reminders == []  # the cancelled call is not reminded of
    assert (await status(handle)).waiting_for == "city (booking)"
    await skipper.fast_forward(handle, OFFER_WINDOW)
    result = await handle.result()
    assert result.stage == Stage.COMPLETED and result.debrief_outcome == "expired"
    assert stubs.debrief_closed == ["expired"]


# --- operations -----------------------------------------------------------------------------


async def test_bad_data_fails_the_step_once_and_waits_for_an_operator_to_retry_it(env):
    client, prefix, stubs = env
    stubs.bad_scoring = True
    handle, _ = await start(client, prefix)

    async def failing():
        s = await status(handle)
        return s if s.failing_step else None

    s = await wait_for(failing)
    assert s.stage == Stage.SCORING and s.failing_step == "scoring.score_submission"
    assert "wwc-1999" in s.failure and s.waiting_for == WaitingFor.OPERATOR
    assert stubs.calls.count("scoring") == 1  # not retried: retrying cannot fix bad data
    assert stubs.steps == [("scoring.score_submission", "catalog wwc-1999 does not exist")]
    # The operator corrects the cause and retries the step: the certification goes on.
    stubs.bad_scoring = False
    await handle.signal(Signal.RETRY_STEP, StepRetry(by="operator-1"))
    s = await wait_stage(handle, Stage.DEBRIEF)
    assert s.failing_step is None and s.waiting_for.startswith("city")
    assert stubs.steps[-1] == ("scoring.score_submission", "retried by operator-1")
    assert stubs.calls.count("scoring") == 2


async def test_operators_find_a_certification_by_stage_cycle_city_and_auditor(env):
    client, prefix, _ = env
    handle, inp = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    now = datetime.now(UTC)
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id="auditor-7", at=now))
    # A late, older fact (released before it was claimed) changes nothing.
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id=None, at=now - timedelta(minutes=5)))

    async def listed(query: str):
        return [w.id async for w in client.list_workflows(query)]

    city = inp.submission.city.name
    query = (f'WwcStage = "in_review" AND WwcCycle = "{inp.cycle}" AND WwcCity = "{city}" '
             f'AND WwcAuditor = "auditor-7" AND WorkflowId = "{handle.id}"')
    assert await wait_for(lambda: listed(query)) == [handle.id]
    s = await status(handle)
    assert s.review_auditor_id == "auditor-7"
    described = await handle.describe()
    assert described.typed_search_attributes.get(SearchAttributes.DUE_AT) == s.review_due_at
    await handle.signal(Signal.REVIEW_COMPLETED, approved())
    await wait_stage(handle, Stage.DEBRIEF)
    moved = f'WwcStage = "debrief" AND WorkflowId = "{handle.id}"'
    assert await wait_for(lambda: listed(moved)) == [handle.id]


async def test_an_answer_that_overtakes_its_request_does_not_hold_the_review(env):
    # Audit signals the request and intake the answer, each through its own relay: under
    # load the answer can arrive first (seen in the 1,000-city benchmark).
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor")
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.CLARIFICATION_ANSWERED, ClarificationAnswer(request_id="q1", answered_at=datetime.now(UTC)))
    await handle.signal(Signal.REQUEST_CLARIFICATION, clarification(days=14))
    await handle.signal(Signal.REVIEW_COMPLETED, approved())
    s = await wait_stage(handle, Stage.DEBRIEF)
    assert s.open_clarifications == [] and s.answered_clarifications == ["q1"]

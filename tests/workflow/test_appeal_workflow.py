"""Appeals in the CertificationWorkflow (real Temporal dev server with time skipping, stub
services): once completed, the city may appeal within the window; independent auditors
decide (audit's activity opens the appeal, with its own clock and reminders); an
overturned finding re-scores and reissues the report as version 2; the city is mailed the
outcome either way, and the certification completes again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import TimeSkipper

from certification.workflow import APPEAL_GRACE
from certification.contract import (
    AppealDecided,
    AppealDecision,
    AppealedCriterion,
    AppealFiled,
    CaseHolder,
    DebriefResult,
    Signal,
    Stage,
)
from shared.contracts.submission import EvidenceItem
from shared.infra.temporal import DATA_CONVERTER
from tests.workflow.stubs import APPEAL_SLA, Stubs, approved, running_workers, start, status, \
    wait_for, wait_stage


@pytest.fixture
async def env(temporal_server):
    client = await Client.connect(temporal_server.address, data_converter=DATA_CONVERTER)
    prefix = f"ap{uuid.uuid4().hex[:8]}-"
    stubs = Stubs()
    async with running_workers(client, prefix, stubs):
        yield client, prefix, stubs


async def completed_with_a_change(client, prefix, **fields):
    """Reviewed (DG1 changed from YES to NO by the audit), debrief declined: completed."""
    fields.setdefault("appeal_window_days", 30)
    handle, inp = await start(client, prefix, review_mode="auditor", **fields)
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.CASE_HOLDER, CaseHolder(auditor_id="auditor-1", at=datetime.now(UTC)))
    await handle.signal(Signal.REVIEW_COMPLETED, approved({"DG1": "NO"}))
    await wait_stage(handle, Stage.DEBRIEF)
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="declined"))
    await wait_stage(handle, Stage.COMPLETED)
    if fields.get("appeal_window_days") == 0:
        return handle, await status(handle)

    async def window_open():
        s = await status(handle)
        return s if s.appeal_open_until else None

    return handle, await wait_for(window_open)


def filed(appeal_id: str = "appeal-1") -> AppealFiled:
    return AppealFiled(appeal_id=appeal_id, criteria=["DG1"], filed_at=datetime.now(UTC), filed_by_name="Dana Cruz",
                       statements=[AppealedCriterion(
                           criterion_id="DG1", statement="The policy was adopted in March; the minutes are attached.",
                           evidence=[EvidenceItem(id="e-9", criterion_id="DG1", kind="file", filename="minutes.pdf",
                                                  object_key="appeals/c1/minutes.pdf")])])


def decided(outcome: str, response: str, appeal_id: str = "appeal-1") -> AppealDecided:
    return AppealDecided(appeal_id=appeal_id, decided_by="auditor-3", signed_off_by="auditor-4",
                         decided_at=datetime.now(UTC), decisions=[AppealDecision(
                             criterion_id="DG1", outcome=outcome, response=response, reason_code="other",
                             explanation="The minutes show the policy was adopted before the deadline.")])


async def test_an_overturned_finding_rescores_reissues_the_report_and_completes_again(env):
    client, prefix, stubs = env
    handle, done = await completed_with_a_change(client, prefix)
    completed_at = done.history[-1].at
    assert done.appeal_open_until == completed_at + timedelta(days=30) and done.report_version == 1
    stubs.score_percent = 4

    await handle.signal(Signal.APPEAL_FILED, filed())
    await handle.signal(Signal.APPEAL_FILED, filed("appeal-2"))  # a second one is ignored
    s = await wait_stage(handle, Stage.APPEAL)
    assert s.appeal is not None and s.appeal.appeal_id == "appeal-1" and s.waiting_for == "auditor"
    await wait_for(lambda: _value(stubs.appeals))
    [req] = stubs.appeals
    [finding] = req.criteria
    assert (finding.criterion_id, finding.submitted, finding.audited) == ("DG1", "YES", "NO")
    assert finding.statement.startswith("The policy was adopted") and finding.evidence[0].object_key
    # Everyone who took part in the review, so audit keeps them off the appeal.
    assert set(req.reviewers) == {"auditor-1", "auditor-2"} and req.case_id == "case-1"

    # The appeal's own clock: reminded before its due date, escalated after it.
    assert await TimeSkipper(client).fast_forward(handle, APPEAL_SLA + timedelta(hours=1))
    await wait_for(lambda: _value(len(stubs.appeal_reminders) == 2))
    assert [k for k, _ in stubs.appeal_reminders] == ["due_soon", "overdue"]

    await handle.signal(Signal.APPEAL_DECIDED, decided("overturned", "YES"))
    result = await handle.result()
    assert result.stage == Stage.COMPLETED and result.report_version == 2
    assert result.report_id == "r-2" and result.score.percent == 4
    assert result.appeal_decided is not None and result.appeal_decided.decisions[0].outcome == "overturned"
    assert stubs.scored[-1] == {"DG1": "YES"}  # the overturned criterion replaced
    revision = stubs.reports[-1].revision
    assert revision is not None and revision.version == 2 and revision.previous_report_id == "r-1"
    assert revision.previous_percent == 2 and revision.changes[0].before == "NO" and revision.changes[0].after == "YES"
    [mail] = stubs.appeal_mails
    assert mail.overturned == ["DG1"] and mail.report_version == 2 and mail.report_url == "http://reports/r-2"
    assert stubs.statuses[-3:] == ["completed", "appeal", "completed"]
    assert "1 overturned" in stubs.details["completed"]


async def test_every_finding_upheld_keeps_the_report_and_mails_the_outcome(env):
    client, prefix, stubs = env
    handle, _ = await completed_with_a_change(client, prefix)
    await handle.signal(Signal.APPEAL_FILED, filed())
    await wait_stage(handle, Stage.APPEAL)
    await handle.signal(Signal.APPEAL_DECIDED, decided("upheld", "NO", appeal_id="another-appeal"))  # not this one
    await handle.signal(Signal.APPEAL_DECIDED, decided("upheld", "NO"))
    result = await handle.result()
    assert result.stage == Stage.COMPLETED and result.report_version == 1 and result.report_id == "r-1"
    assert stubs.calls.count("reporting") == 1 and stubs.calls.count("scoring") == 1
    [mail] = stubs.appeal_mails
    assert mail.upheld == ["DG1"] and mail.overturned == [] and mail.report_version == 1


async def test_the_window_closes_without_an_appeal_and_the_run_ends(env):
    client, prefix, stubs = env
    handle, done = await completed_with_a_change(client, prefix, appeal_window_days=10)
    assert done.appeal_open_until == done.history[-1].at + timedelta(days=10)
    # The run ends once the window and its grace for late deliveries have passed.
    await TimeSkipper(client).fast_forward(handle, timedelta(days=10) + APPEAL_GRACE + timedelta(minutes=1))
    result = await handle.result()
    assert result.stage == Stage.COMPLETED and result.appeal is None
    assert "open_appeal" not in stubs.calls and stubs.appeal_mails == []


async def test_no_window_no_wait(env):
    client, prefix, stubs = env
    handle, done = await completed_with_a_change(client, prefix, appeal_window_days=0)
    result = await handle.result()
    assert result.appeal_open_until is None and result.stage == Stage.COMPLETED


async def _value(v):
    return v



async def test_an_appeal_before_completion_is_ignored(env):
    client, prefix, stubs = env
    handle, _ = await start(client, prefix, review_mode="auditor", appeal_window_days=5)
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.APPEAL_FILED, filed())  # intake refuses it; a stray one changes nothing
    await handle.signal(Signal.REVIEW_COMPLETED, approved({"DG1": "NO"}))
    await wait_stage(handle, Stage.DEBRIEF)
    await handle.signal(Signal.DEBRIEF_COMPLETED, DebriefResult(outcome="declined"))
    await wait_stage(handle, Stage.COMPLETED)

    async def window_open():
        return (await status(handle)).appeal_open_until

    await wait_for(window_open)
    await TimeSkipper(client).fast_forward(handle, timedelta(days=5) + APPEAL_GRACE + timedelta(minutes=1))
    result = await handle.result()
    assert result.appeal is None and "open_appeal" not in stubs.calls


async def test_an_appeal_accepted_in_time_but_delivered_after_the_window_is_still_heard(env):
    client, prefix, stubs = env
    handle, done = await completed_with_a_change(client, prefix, appeal_window_days=10)
    in_time = done.appeal_open_until - timedelta(minutes=5)  # intake accepted it before the window closed
    await TimeSkipper(client).fast_forward(handle, timedelta(days=10, hours=1))  # ... the signal came late
    late = filed().model_copy(update={"filed_at": done.appeal_open_until + timedelta(minutes=1)})
    await handle.signal(Signal.APPEAL_FILED, late)  # filed after the window: not an appeal
    await handle.signal(Signal.APPEAL_FILED, filed().model_copy(update={"filed_at": in_time}))
    s = await wait_stage(handle, Stage.APPEAL)
    assert s.appeal is not None and s.appeal.filed_at == in_time

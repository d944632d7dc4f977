"""The certification workflow's test double of every other service: activity stubs that
record their calls (a few answer as a test arranges), workers for every task queue, and
helpers to start a run and wait on its status. Used by the workflow tests and by the
recorder of the replay histories (tests/workflow/histories.py)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
import uuid
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import Worker

from certification.workflow import CertificationWorkflow
from certification.activities import (
    Activities,
    AppealOpened,
    AppealOutcomeMail,
    AppealReminder,
    AppealRequest,
    ClarificationReminder,
    DebriefClosed,
    DebriefOutcome,
    DebriefReminder,
    DebriefRequest,
    EvidenceCheck,
    EvidenceCheckResult,
    ReportOutcome,
    ReportRequest,
    ReviewDue,
    ReviewOpened,
    ReviewOutcome,
    ReviewReminder,
    ReviewRequest,
    RoundClosed,
    ScoreOutcome,
    ScoreRequest,
    StatusRecord,
    StepRecord,
    bad_data,
)
from certification.contract import (
    CERTIFICATION_WORKFLOW,
    CertificationInput,
    CertificationStatus,
    ClarificationRequest,
    Query,
    Signal,
    Stage,
    TaskQueue,
    initial_search_attributes,
)
from tests.factories import frozen_submission

SLA = timedelta(days=21)
REMIND_BEFORE = timedelta(days=2)
OFFER_WINDOW = timedelta(days=30)
APPEAL_SLA = timedelta(days=14)


class Stubs:
    """Each activity records its call; a few answer as a test arranges."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.statuses: list[str] = []
        self.details: dict[str, str] = {}
        self.reminders: list[tuple[str, datetime]] = []   # (kind, due_at) of review reminders
        self.due_dates: list[datetime] = []                # review due dates audit was told
        self.closed_rounds: list[str] = []
        self.debrief_reminders: list[tuple[str, datetime]] = []
        self.debrief_closed: list[str] = []
        self.clarification_reminders: list[str] = []
        self.missing: list[str] = []
        self.opened_at: datetime | None = None
        self.steps: list[tuple[str, str]] = []  # (step, error or "retried by <who>")
        self.scored: list[dict[str, str]] = []  # the audited responses each scoring call got
        self.bad_scoring = False  # scoring answers "bad data" while set
        self.scoring_started = asyncio.Event()
        self.release_scoring: asyncio.Event | None = None
        self.appeals: list[AppealRequest] = []
        self.appeal_reminders: list[tuple[str, datetime]] = []
        self.appeal_mails: list[AppealOutcomeMail] = []
        self.reports: list[ReportRequest] = []
        self.score_percent = 2  # what scoring answers (a test may change it between calls)

        def named(spec):
            return activity.defn(name=spec.name)

        @named(Activities.RECORD_STATUS)
        async def record_status(rec: StatusRecord) -> None:
            self.statuses.append(rec.status)
            self.details[rec.status] = rec.detail

        @named(Activities.RECORD_STEP)
        async def record_step(rec: StepRecord) -> None:
            self.steps.append((rec.step, rec.error or f"retried by {rec.retried_by}"))

        @named(Activities.CHECK_EVIDENCE)
        async def check_evidence(_: EvidenceCheck) -> EvidenceCheckResult:
            self.calls.append("evidence")
            return EvidenceCheckResult(checked=2, missing=self.missing)

        @named(Activities.OPEN_REVIEW)
        async def open_review(_: ReviewRequest) -> ReviewOpened:
            self.calls.append("open_review")
            self.opened_at = activity.info().current_attempt_scheduled_time
            return ReviewOpened(case_id="case-1", due_at=self.opened_at + SLA, remind_before=REMIND_BEFORE)

        @named(Activities.COMPLETE_REVIEW)
        async def complete_review(_: ReviewRequest) -> ReviewOutcome:
            self.calls.append("audit")
            return ReviewOutcome(case_id="case-1", audited_responses={"DG1": "YES"})

        @named(Activities.SET_REVIEW_DUE)
        async def set_review_due(req: ReviewDue) -> None:
            self.due_dates.append(req.due_at)

        @named(Activities.REMIND_REVIEW)
        async def remind_review(req: ReviewReminder) -> None:
            self.reminders.append((req.kind, req.due_at))

        @named(Activities.CLOSE_ROUND)
        async def close_round(req: RoundClosed) -> None:
            self.closed_rounds.append(req.request_id)

        @named(Activities.SCORE_SUBMISSION)
        async def score_submission(req: ScoreRequest) -> ScoreOutcome:
            self.calls.append("scoring")
            self.scored.append({k: str(v) for k, v in req.audited_responses.items()})
            if self.bad_scoring:
                raise bad_data("catalog wwc-1999 does not exist")
            self.scoring_started.set()
            if self.release_scoring is not None:
                await self.release_scoring.wait()
            return ScoreOutcome(met=1, total=45, percent=self.score_percent, tier=None)

        @named(Activities.RENDER_REPORT)
        async def render_report(req: ReportRequest) -> ReportOutcome:
            self.calls.append("reporting")
            self.reports.append(req)
            n = req.revision.version if req.revision else 1
            return ReportOutcome(report_id=f"r-{n}", url=f"http://reports/r-{n}")

        @named(Activities.OPEN_APPEAL)
        async def open_appeal(req: AppealRequest) -> AppealOpened:
            self.calls.append("open_appeal")
            self.appeals.append(req)
            now = activity.info().current_attempt_scheduled_time
            return AppealOpened(appeal_id=req.appeal_id, due_at=now + APPEAL_SLA, remind_before=REMIND_BEFORE)

        @named(Activities.REMIND_APPEAL)
        async def remind_appeal(req: AppealReminder) -> None:
            self.appeal_reminders.append((req.kind, req.due_at))

        @named(Activities.MAIL_APPEAL_OUTCOME)
        async def mail_appeal_outcome(req: AppealOutcomeMail) -> None:
            self.calls.append("appeal_mail")
            self.appeal_mails.append(req)

        @named(Activities.OFFER_DEBRIEF)
        async def offer_debrief(_: DebriefRequest) -> DebriefOutcome:
            self.calls.append("notify")
            now = activity.info().current_attempt_scheduled_time
            return DebriefOutcome(offer_id="o-1", emailed=True, expires_at=now + OFFER_WINDOW)

        @named(Activities.REMIND_CLARIFICATION)
        async def remind_clarification(req: ClarificationReminder) -> None:
            self.clarification_reminders.append(req.request_id)

        @named(Activities.REMIND_DEBRIEF)
        async def remind_debrief(req: DebriefReminder) -> None:
            self.debrief_reminders.append((req.kind, req.starts_at))

        @named(Activities.CLOSE_DEBRIEF)
        async def close_debrief(req: DebriefClosed) -> None:
            self.debrief_closed.append(req.outcome)

        self.by_queue = {
            TaskQueue.INTAKE: [record_status, record_step, check_evidence],
            TaskQueue.AUDIT: [open_review, complete_review, set_review_due, remind_review, close_round, open_appeal,
                              remind_appeal],
            TaskQueue.SCORING: [score_submission],
            TaskQueue.REPORTING: [render_report],
            TaskQueue.NOTIFY: [offer_debrief, remind_clarification, remind_debrief, close_debrief,
                               mail_appeal_outcome],
        }


@asynccontextmanager
async def running_workers(client: Client, prefix: str, stubs: Stubs, workflows: tuple[type, ...] = (CertificationWorkflow,),
                          without: tuple[TaskQueue, ...] = ()):
    """A worker per task queue: the workflow on intake's, the stubs on every queue but
    those `without` (served by a real service in the test)."""
    workers = [
        Worker(client, task_queue=f"{prefix}{queue}", activities=acts,
               workflows=list(workflows) if queue == TaskQueue.INTAKE else [])
        for queue, acts in stubs.by_queue.items() if queue not in without
    ]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        if stubs.release_scoring is not None:
            stubs.release_scoring.set()
        # Bounded: a failing test may leave an activity retrying, which would hold shutdown.
        await asyncio.wait([asyncio.create_task(w.shutdown()) for w in workers], timeout=15)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def start(client, prefix, review_mode="auto", **fields):
    """A run; without an appeal window unless the test gives one (`appeal_window_days`):
    the time-skipping server skips a timer only when told to (`TimeSkipper`), so a run that
    waits out a 30-day window would hold `handle.result()`."""
    fields.setdefault("appeal_window_days", 0)
    sid = uuid.uuid4().hex
    inp = CertificationInput(submission_id=sid, submission=frozen_submission({"DG1": "YES"}),
                             review_mode=review_mode, task_queue_prefix=prefix, **fields)
    handle = await client.start_workflow(CERTIFICATION_WORKFLOW, inp, id=f"certification-{sid}",
                                         search_attributes=initial_search_attributes(inp),
                                         task_queue=f"{prefix}intake", result_type=CertificationStatus,
                                         id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    return handle, inp


async def status(handle) -> CertificationStatus:
    return await handle.query(Query.STATUS, result_type=CertificationStatus)


async def wait_for(check, timeout: float = 20):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.1)


async def wait_stage(handle, stage: Stage, timeout: float = 20) -> CertificationStatus:
    async def reached():
        s = await status(handle)
        return s if s.stage == stage else None

    return await wait_for(reached, timeout)


def clarification(days: float, rid: str = "q1") -> ClarificationRequest:
    return ClarificationRequest(request_id=rid, criteria=["DG1"], message="Please attach the data inventory.",
                                due_at=datetime.now(UTC) + timedelta(days=days), requested_by="auditor-1")


def approved(responses: dict[str, str] | None = None) -> ReviewOutcome:
    return ReviewOutcome(case_id="case-1", audited_responses=responses or {"DG1": "YES"}, approved_by="auditor-2")


async def through_review(handle) -> None:
    await wait_stage(handle, Stage.IN_REVIEW)
    await handle.signal(Signal.REVIEW_COMPLETED, approved())



"""CertificationWorkflow: one per submission, owns the lifecycle.

evidence check -> review (clarification rounds, auditor or automatic) -> scoring ->
report -> debrief offer -> completed. It never touches a database: every step is an
activity on the owning service's task queue, called by name only.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from shared.contracts.workflows import (
        CERTIFICATION_WORKFLOW,
        Activity,
        CertificationInput,
        CertificationStatus,
        ClarificationAnswer,
        ClarificationRequest,
        DebriefOutcome,
        DebriefRequest,
        EvidenceCheck,
        EvidenceCheckResult,
        Query,
        ReportOutcome,
        ReportRequest,
        ReviewOutcome,
        ReviewRequest,
        ScoreOutcome,
        ScoreRequest,
        Signal,
        Stage,
        StageEntry,
        StatusRecord,
        TaskQueue,
        WITHDRAWABLE_STAGES,
        Withdrawal,
    )
    from shared.contracts.vocabulary import ReviewMode

STEP_TIMEOUT = timedelta(minutes=5)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


class Withdrawn(Exception):
    pass


@workflow.defn(name=CERTIFICATION_WORKFLOW)
class CertificationWorkflow:
    def __init__(self) -> None:
        self._stage = Stage.SUBMITTED
        self._history: list[StageEntry] = []
        self._clarifications: dict[str, ClarificationRequest] = {}
        self._answered: set[str] = set()
        self._expired: set[str] = set()
        self._withdrawal: Withdrawal | None = None
        self._review: ReviewOutcome | None = None
        self._deciding = False  # the automatic review activity is running
        self._missing_evidence: list[str] = []
        self._score: ScoreOutcome | None = None
        self._report_id: str | None = None
        self._offer_id: str | None = None
        self._input: CertificationInput | None = None

    # --- the lifecycle ------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CertificationInput) -> CertificationStatus:
        self._input = inp
        self._history.append(StageEntry(stage=Stage.SUBMITTED, at=workflow.now()))
        try:
            await self._enter(Stage.EVIDENCE_CHECK)
            check = await self._call(
                Activity.INTAKE_CHECK_EVIDENCE, TaskQueue.INTAKE,
                EvidenceCheck(submission_id=inp.submission_id, correlation_id=inp.correlation_id,
                              evidence_keys=inp.submission.evidence_keys()),
                EvidenceCheckResult,
            )
            # Missing files do not stop the review (auditors decide what they mean), but
            # they are said where operators and auditors look: the status and its event.
            self._missing_evidence = list(check.missing)
            detail = f"{len(check.missing)} evidence file(s) missing from storage" if check.missing else ""
            await self._enter(Stage.IN_REVIEW, detail=detail)
            review = await self._review_phase(inp)
            self._raise_if_withdrawn()
            # Past this point a city can no longer withdraw: scoring has started.
            await self._enter(Stage.SCORING)
            self._score = await self._call(
                Activity.SCORING_SCORE_SUBMISSION, TaskQueue.SCORING,
                ScoreRequest(
                    submission_id=inp.submission_id, correlation_id=inp.correlation_id,
                    city_id=inp.city_id, cycle=inp.cycle, catalog_version=inp.catalog_version,
                    audited_responses=review.audited_responses, region=inp.submission.city.region,
                    population_band=inp.submission.city.population_band,
                ),
                ScoreOutcome,
            )
            await self._enter(Stage.REPORTING)
            report = await self._call(
                Activity.REPORTING_RENDER_REPORT, TaskQueue.REPORTING,
                ReportRequest(submission_id=inp.submission_id, correlation_id=inp.correlation_id,
                              city_id=inp.city_id, cycle=inp.cycle, catalog_version=inp.catalog_version,
                              city_name=inp.submission.city.name, score=self._score),
                ReportOutcome,
            )
            self._report_id = report.report_id
            await self._enter(Stage.DEBRIEF)
            offer = await self._call(
                Activity.NOTIFY_OFFER_DEBRIEF, TaskQueue.NOTIFY,
                DebriefRequest(submission_id=inp.submission_id, correlation_id=inp.correlation_id,
                               city_id=inp.city_id, contact_email=inp.submission.city.contact_email,
                               city_name=inp.submission.city.name, tier=self._score.tier),
                DebriefOutcome,
            )
            self._offer_id = offer.offer_id
            tier = self._score.tier or "not certified"
            await self._enter(Stage.COMPLETED, detail=f"{self._score.percent}% - {tier}")
        except Withdrawn:
            reason = self._withdrawal.reason if self._withdrawal else ""
            await self._enter(Stage.WITHDRAWN, detail=reason)
        return self.status()

    async def _review_phase(self, inp: CertificationInput) -> ReviewOutcome:
        """Clarification rounds may open at any time in review; the review completes
        when none is open (each ends when answered or when its due date passes)."""
        while True:
            await self._wait_for_clarifications()
            self._raise_if_withdrawn()
            if inp.review_mode == ReviewMode.AUTO:
                break
            # Auditor mode: an auditor's decision arrives as a signal.
            await workflow.wait_condition(
                lambda: self._review is not None or self._withdrawal is not None or self._open()
            )
            self._raise_if_withdrawn()
            if self._review is not None and not self._open():
                return self._review
        self._deciding = True
        outcome = await self._call(
            Activity.AUDIT_COMPLETE_REVIEW, TaskQueue.AUDIT,
            ReviewRequest(submission_id=inp.submission_id, correlation_id=inp.correlation_id,
                          submission=inp.submission),
            ReviewOutcome,
        )
        self._review = outcome
        return outcome

    async def _wait_for_clarifications(self) -> None:
        while self._open() and self._withdrawal is None:
            if self._stage != Stage.CLARIFICATION:
                await self._enter(Stage.CLARIFICATION)
            open_ids = {c.request_id for c in self._open()}
            soonest = min(c.due_at for c in self._open())
            remaining = max((soonest - workflow.now()).total_seconds(), 0.001)
            try:
                # Wake when a request is answered or added, or the soonest one falls due.
                await workflow.wait_condition(
                    lambda open_ids=open_ids: self._withdrawal is not None
                    or {c.request_id for c in self._open()} != open_ids,
                    timeout=timedelta(seconds=remaining),
                )
            except TimeoutError:
                for c in self._open():
                    if c.due_at <= workflow.now():
                        self._expired.add(c.request_id)
        if self._stage == Stage.CLARIFICATION and self._withdrawal is None:
            await self._enter(Stage.IN_REVIEW)

    def _open(self) -> list[ClarificationRequest]:
        done = self._answered | self._expired
        return [c for c in self._clarifications.values() if c.request_id not in done]

    def _raise_if_withdrawn(self) -> None:
        if self._withdrawal is not None:
            raise Withdrawn()

    async def _enter(self, stage: Stage, detail: str = "") -> None:
        previous = self._stage
        self._stage = stage
        self._history.append(StageEntry(stage=stage, at=workflow.now()))
        assert self._input is not None
        await self._call(
            Activity.INTAKE_RECORD_STATUS, TaskQueue.INTAKE,
            StatusRecord(submission_id=self._input.submission_id, correlation_id=self._input.correlation_id,
                         status=stage, previous=previous, detail=detail),
            None,
        )

    async def _call(self, name: str, queue: TaskQueue, arg, result_type):
        prefix = self._input.task_queue_prefix if self._input else ""
        return await workflow.execute_activity(
            name, arg, task_queue=f"{prefix}{queue}", result_type=result_type,
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY,
        )

    # --- signals and queries --------------------------------------------------------------

    @workflow.signal(name=Signal.WITHDRAW)
    def withdraw(self, withdrawal: Withdrawal) -> None:
        # Only honoured before scoring starts; afterwards the run ignores it.
        if self._stage in WITHDRAWABLE_STAGES:
            self._withdrawal = withdrawal

    @workflow.signal(name=Signal.REQUEST_CLARIFICATION)
    def request_clarification(self, request: ClarificationRequest) -> None:
        # Not once the review decision exists or is being made: nothing would wait for it.
        if self._review is None and not self._deciding and self._stage in WITHDRAWABLE_STAGES:
            self._clarifications.setdefault(request.request_id, request)

    @workflow.signal(name=Signal.CLARIFICATION_ANSWERED)
    def clarification_answered(self, answer: ClarificationAnswer) -> None:
        if answer.request_id in self._clarifications:
            self._answered.add(answer.request_id)

    @workflow.signal(name=Signal.REVIEW_COMPLETED)
    def review_completed(self, outcome: ReviewOutcome) -> None:
        self._review = outcome

    @workflow.query(name=Query.STATUS)
    def status(self) -> CertificationStatus:
        return CertificationStatus(
            submission_id=self._input.submission_id if self._input else "",
            stage=self._stage,
            history=list(self._history),
            open_clarifications=self._open(),
            answered_clarifications=sorted(self._answered),
            expired_clarifications=sorted(self._expired),
            score=self._score,
            report_id=self._report_id,
            debrief_offer_id=self._offer_id,
            withdrawn_reason=self._withdrawal.reason if self._withdrawal else None,
            missing_evidence=list(self._missing_evidence),
        )

"""CertificationWorkflow: one per submission, owns the lifecycle.

evidence check -> review (by auditors, with an SLA clock, reminders and clarification
rounds that pause it; or automatic) -> scoring -> report -> debrief (an offer, a booking
with reminders, the outcome) -> completed. It never touches a database: every step is an
activity on the owning service's task queue, named and timed by one table
(`certification.activities.Activities`).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from certification.activities import (
        BAD_DATA,
        Activities,
        ActivitySpec,
        AppealChange,
        AppealedFinding,
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
        ReportOutcome,
        ReportRequest,
        ReportRevision,
        ReviewDue,
        ReviewOutcome,
        ReviewReminder,
        ReviewRequest,
        RoundClosed,
        ScoreOutcome,
        ScoreRequest,
        StatusRecord,
        StepRecord,
    )
    from shared.contracts.vocabulary import (
        AppealOutcome,
        CallReminderKind,
        DebriefEnding,
        ReviewMode,
        ReviewReminderKind,
        WaitingFor,
    )
    from certification.contract import (
        CERTIFICATION_WORKFLOW,
        WITHDRAWABLE_STAGES,
        AppealDecided,
        AppealFiled,
        CertificationInput,
        CaseHolder,
        CertificationStatus,
        ClarificationAnswer,
        ClarificationRequest,
        DebriefBooking,
        DebriefCancellation,
        DebriefResult,
        Query,
        ScoreSummary,
        SearchAttributes,
        Signal,
        Stage,
        StageEntry,
        StepRetry,
        Update,
        Withdrawal,
    )

# The city is reminded of an unanswered clarification request this long before it is due.
CLARIFICATION_REMINDER = timedelta(days=2)
# How long past the appeal window the run still listens for an appeal intake accepted in time.
APPEAL_GRACE = timedelta(days=2)
# Debrief reminders: this long before the call.
DEBRIEF_REMINDERS = ((CallReminderKind.DAY, timedelta(days=1)), (CallReminderKind.HOUR, timedelta(hours=1)))
WAITING_FOR = {Stage.SUBMITTED: WaitingFor.EVIDENCE_CHECK, Stage.EVIDENCE_CHECK: WaitingFor.EVIDENCE_CHECK,
               Stage.IN_REVIEW: WaitingFor.AUDITOR, Stage.CLARIFICATION: WaitingFor.CITY,
               Stage.SCORING: WaitingFor.SCORING, Stage.REPORTING: WaitingFor.REPORT, Stage.DEBRIEF: WaitingFor.CITY,
               Stage.COMPLETED: WaitingFor.NOTHING, Stage.WITHDRAWN: WaitingFor.NOTHING,
               Stage.APPEAL: WaitingFor.AUDITOR}


class Withdrawn(Exception):
    pass


@workflow.defn(name=CERTIFICATION_WORKFLOW)
class CertificationWorkflow:
    def __init__(self) -> None:
        self._input: CertificationInput | None = None
        self._stage = Stage.SUBMITTED
        self._waiting_for = WAITING_FOR[Stage.SUBMITTED]
        self._history: list[StageEntry] = []
        self._missing_evidence: list[str] = []
        self._withdrawal: Withdrawal | None = None
        # review
        self._case_id: str | None = None
        self._due_at = None
        self._reminded_for = None   # the due date a due-soon reminder was sent for
        self._escalated_for = None  # the due date an overdue escalation was sent for
        self._clarifications: dict[str, ClarificationRequest] = {}
        self._answered: set[str] = set()
        self._expired: set[str] = set()
        self._clarification_reminded: set[str] = set()
        self._review: ReviewOutcome | None = None
        self._deciding = False  # the automatic review activity is running
        # results
        self._score: ScoreOutcome | None = None
        self._report: ReportOutcome | None = None
        # debrief
        self._offer: DebriefOutcome | None = None
        self._booking: DebriefBooking | None = None
        self._debrief_result: DebriefResult | None = None
        self._debrief_outcome: DebriefEnding | None = None
        self._debrief_reminded: set[tuple[str, int, str]] = set()
        self._cancelled_bookings: set[str] = set()
        # operations
        self._auditor: str | None = None
        self._holder_at = None
        self._failing: tuple[str, str] | None = None  # (step, error) waiting for an operator
        self._retries: list[StepRetry] = []
        # appeal
        self._appeal_open_until = None
        self._appeal: AppealFiled | None = None
        self._appeal_opened: AppealOpened | None = None
        self._appeal_reminded_for = None
        self._appeal_escalated_for = None
        self._appeal_decided: AppealDecided | None = None
        self._report_version = 1

    # --- the lifecycle ------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CertificationInput) -> CertificationStatus:
        self._input = inp
        self._history.append(StageEntry(stage=Stage.SUBMITTED, at=workflow.now()))
        try:
            await self._enter(Stage.EVIDENCE_CHECK)
            check = await self._call(Activities.CHECK_EVIDENCE, EvidenceCheck(
                **self._traced(), evidence_keys=inp.submission.evidence_keys()))
            # Missing files do not stop the review (auditors decide what they mean), but
            # they are said where operators and auditors look: the status and its event.
            self._missing_evidence = list(check.missing)
            review = await self._review_phase(inp, check_detail=(
                f"{len(check.missing)} evidence file(s) missing from storage" if check.missing else ""))
            self._raise_if_withdrawn()
            # Past this point a city can no longer withdraw: scoring has started.
            await self._enter(Stage.SCORING)
            city = inp.submission.city
            self._score = await self._call(Activities.SCORE_SUBMISSION, ScoreRequest(
                **self._traced(), city_id=inp.city_id, cycle=inp.cycle, catalog_version=inp.catalog_version,
                audited_responses=review.audited_responses, region=city.region,
                population_band=city.population_band))
            await self._enter(Stage.REPORTING)
            self._report = await self._call(Activities.RENDER_REPORT, ReportRequest(
                **self._traced(), submission=inp.submission,
                changes=review.changes, score=self._score))
            await self._enter(Stage.DEBRIEF)
            await self._debrief_phase(inp)
            tier = self._score.tier or "not certified"
            await self._enter(Stage.COMPLETED, detail=f"{self._score.percent}% - {tier}")
            if inp.appeal_window_days > 0 and workflow.patched("appeals"):
                await self._appeal_phase(inp, review)
        except Withdrawn:
            reason = self._withdrawal.reason if self._withdrawal else ""
            await self._enter(Stage.WITHDRAWN, detail=reason)
        return self.status()

    # --- review -------------------------------------------------------------------------

    async def _review_phase(self, inp: CertificationInput, check_detail: str) -> ReviewOutcome:
        request = ReviewRequest(**self._traced(), submission=inp.submission)
        if inp.review_mode == ReviewMode.AUTO:
            await self._enter(Stage.IN_REVIEW, detail=check_detail)
            await self._wait_for_clarifications()
            self._raise_if_withdrawn()
            self._deciding = True
            self._review = await self._call(Activities.COMPLETE_REVIEW, request)
            return self._review
        opened = await self._call(Activities.OPEN_REVIEW, request)
        self._case_id = opened.case_id
        self._set_due(opened.due_at)
        await self._enter(Stage.IN_REVIEW, detail=check_detail)
        while True:
            if self._open():
                await self._wait_for_clarifications()
            self._raise_if_withdrawn()
            if self._review is not None and not self._open():
                return self._review
            moment = self._next_sla_moment(opened.remind_before)
            timeout = max((moment - workflow.now()).total_seconds(), 0) if moment else None
            try:
                await workflow.wait_condition(
                    lambda: self._review is not None or self._withdrawal is not None or bool(self._open()),
                    timeout=timedelta(seconds=timeout) if timeout is not None else None)
            except TimeoutError:
                await self._sla_reminders(opened.remind_before)

    def _set_due(self, due_at) -> None:
        self._due_at = due_at
        workflow.upsert_search_attributes([SearchAttributes.DUE_AT.value_set(due_at)])

    def _next_sla_moment(self, remind_before: timedelta):
        """When the review clock next calls for a reminder or an escalation."""
        if self._due_at is None:
            return None
        if self._reminded_for != self._due_at and workflow.now() < self._due_at:
            return self._due_at - remind_before
        if self._escalated_for != self._due_at:
            return self._due_at
        return None

    async def _sla_reminders(self, remind_before: timedelta) -> None:
        assert self._due_at is not None and self._case_id is not None
        now = workflow.now()
        if now >= self._due_at and self._escalated_for != self._due_at:
            self._escalated_for = self._reminded_for = self._due_at
            await self._call(Activities.REMIND_REVIEW, ReviewReminder(
                **self._traced(), case_id=self._case_id, kind=ReviewReminderKind.OVERDUE, due_at=self._due_at))
        elif now >= self._due_at - remind_before and self._reminded_for != self._due_at:
            self._reminded_for = self._due_at
            await self._call(Activities.REMIND_REVIEW, ReviewReminder(
                **self._traced(), case_id=self._case_id, kind=ReviewReminderKind.DUE_SOON, due_at=self._due_at))

    async def _wait_for_clarifications(self) -> None:
        """The city answers (or a round expires). The review clock stops meanwhile: the due
        date moves by the time the rounds took, and audit is told so its queue shows it."""
        started = workflow.now()
        while self._open() and self._withdrawal is None:
            if self._stage != Stage.CLARIFICATION:
                await self._enter(Stage.CLARIFICATION)
            open_ids = {c.request_id for c in self._open()}
            # The next moment: a round's reminder to the city, or the soonest due date.
            moments = [c.due_at for c in self._open()] + [
                c.due_at - CLARIFICATION_REMINDER for c in self._open()
                if c.request_id not in self._clarification_reminded
                and c.due_at - CLARIFICATION_REMINDER > workflow.now()]
            remaining = max((min(moments) - workflow.now()).total_seconds(), 0.001)
            try:
                # Wake when a request is answered or added, or that moment comes.
                await workflow.wait_condition(
                    lambda open_ids=open_ids: self._withdrawal is not None
                    or {c.request_id for c in self._open()} != open_ids,
                    timeout=timedelta(seconds=remaining),
                )
            except TimeoutError:
                now = workflow.now()
                for c in self._open():
                    if c.due_at <= now:
                        self._expired.add(c.request_id)
                        if self._case_id is not None:  # the case goes back with what exists
                            await self._call(Activities.CLOSE_ROUND, RoundClosed(
                                **self._traced(), case_id=self._case_id, request_id=c.request_id))
                    elif c.due_at - CLARIFICATION_REMINDER <= now and \
                            c.request_id not in self._clarification_reminded:
                        self._clarification_reminded.add(c.request_id)
                        await self._call(Activities.REMIND_CLARIFICATION, ClarificationReminder(
                            **self._traced(), request_id=c.request_id, criteria=c.criteria, due_at=c.due_at))
        if self._stage == Stage.CLARIFICATION and self._withdrawal is None:
            clock = self._case_id is not None and self._due_at is not None
            if clock:
                self._set_due(self._due_at + (workflow.now() - started))
            await self._enter(Stage.IN_REVIEW)
            if clock:
                await self._call(Activities.SET_REVIEW_DUE, ReviewDue(
                    **self._traced(), case_id=self._case_id, due_at=self._due_at))

    def _open(self) -> list[ClarificationRequest]:
        done = self._answered | self._expired
        return [c for c in self._clarifications.values() if c.request_id not in done]

    # --- debrief ------------------------------------------------------------------------

    async def _debrief_phase(self, inp: CertificationInput) -> None:
        """An offer; once booked, reminders a day and an hour before the call (moved when
        the call moves); done when the outcome is recorded, the city declines, or nobody
        booked before the offer expired."""
        city = inp.submission.city
        assert self._score is not None
        self._offer = await self._call(Activities.OFFER_DEBRIEF, DebriefRequest(
            **self._traced(), city_id=city.id, contact_email=city.contact_email, city_name=city.name,
            language=city.language, tier=self._score.tier, report_url=self._report.url if self._report else None))
        while self._debrief_result is None:
            booking = self._booking
            if booking is None:
                self._waiting_for = WaitingFor.CITY_BOOKING
                expires = self._offer.expires_at
                timeout = max((expires - workflow.now()).total_seconds(), 0) if expires else None
                try:
                    await workflow.wait_condition(
                        lambda: self._booking is not None or self._debrief_result is not None,
                        timeout=timedelta(seconds=timeout) if timeout is not None else None)
                except TimeoutError:
                    await self._call(Activities.CLOSE_DEBRIEF, DebriefClosed(
                        **self._traced(), offer_id=self._offer.offer_id, outcome=DebriefEnding.EXPIRED))
                    self._debrief_outcome = DebriefEnding.EXPIRED
                    return
                continue
            moment, kind = self._next_debrief_reminder(booking)
            self._waiting_for = WaitingFor.DEBRIEF_CALL if moment else WaitingFor.CALL_OUTCOME
            timeout = max((moment - workflow.now()).total_seconds(), 0) if moment else None
            try:
                await workflow.wait_condition(
                    lambda booking=booking: self._booking != booking or self._debrief_result is not None,
                    timeout=timedelta(seconds=timeout) if timeout is not None else None)
            except TimeoutError:
                self._debrief_reminded.add((booking.booking_id, booking.sequence, kind))
                await self._call(Activities.REMIND_DEBRIEF, DebriefReminder(
                    **self._traced(), offer_id=self._offer.offer_id, booking_id=booking.booking_id,
                    starts_at=booking.starts_at, kind=kind))
        self._debrief_outcome = self._debrief_result.outcome

    def _next_debrief_reminder(self, booking: DebriefBooking):
        """The next reminder still ahead for this booking; one whose moment has already
        passed (a call booked for this afternoon has no day-before reminder) is skipped."""
        for kind, before in DEBRIEF_REMINDERS:
            key = (booking.booking_id, booking.sequence, kind)
            if key in self._debrief_reminded:
                continue
            moment = booking.starts_at - before
            if moment > workflow.now():
                return moment, kind
            self._debrief_reminded.add(key)
        return None, ""

    # --- appeal -------------------------------------------------------------------------

    async def _appeal_phase(self, inp: CertificationInput, review: ReviewOutcome) -> None:
        """Completed: the city may appeal audited changes until the window closes. An appeal
        is decided by independent auditors (audit, four eyes) on its own clock; an
        overturned finding re-scores and reissues the report (version 2); the city is
        mailed the outcome either way and the certification completes again."""
        # From the moment it completed (the stage's time, as the city's pages show it).
        self._appeal_open_until = self._history[-1].at + timedelta(days=inp.appeal_window_days)
        try:
            # Intake accepts appeals until the window closes; one accepted in its last moments
            # may reach the workflow a little later (a relay retrying, Temporal away): the run
            # waits a grace period past the window so such an appeal is never left unheard.
            closes = self._appeal_open_until + APPEAL_GRACE
            await workflow.wait_condition(
                lambda: self._appeal is not None,
                timeout=max(closes - workflow.now(), timedelta(seconds=1)))
        except TimeoutError:
            return  # the window closed without an appeal
        appeal = self._appeal
        assert appeal is not None
        await self._enter(Stage.APPEAL, detail=f"{len(appeal.criteria)} finding(s) appealed")
        submitted = inp.submission.responses
        statements = {s.criterion_id: s for s in appeal.statements}
        findings = [AppealedFinding(
            criterion_id=cid, submitted=submitted[cid].response if cid in submitted else None,
            audited=review.audited_responses.get(cid, submitted[cid].response if cid in submitted else "NO"),
            statement=statements[cid].statement if cid in statements else "",
            evidence=list(statements[cid].evidence) if cid in statements else []) for cid in appeal.criteria]
        city = inp.submission.city
        self._appeal_opened = opened = await self._call(Activities.OPEN_APPEAL, AppealRequest(
            **self._traced(), appeal_id=appeal.appeal_id, case_id=self._case_id, city_id=city.id,
            city_name=city.name, cycle=inp.cycle, catalog_version=inp.catalog_version, filed_at=appeal.filed_at,
            filed_by_name=appeal.filed_by_name, criteria=findings,
            reviewers=sorted({p for p in (review.approved_by, self._auditor) if p})))
        while self._appeal_decided is None:
            moment = self._next_appeal_moment(opened)
            timeout = max((moment - workflow.now()).total_seconds(), 0) if moment else None
            try:
                await workflow.wait_condition(
                    lambda: self._appeal_decided is not None,
                    timeout=timedelta(seconds=timeout) if timeout is not None else None)
            except TimeoutError:
                await self._appeal_reminders(opened)
        decided = self._appeal_decided
        overturned = [d for d in decided.decisions if d.outcome == AppealOutcome.OVERTURNED]
        upheld = [d for d in decided.decisions if d.outcome == AppealOutcome.UPHELD]
        assert self._score is not None
        previous_tier, previous_percent = self._score.tier, self._score.percent
        if overturned:
            self._waiting_for = WaitingFor.SCORING
            responses = dict(review.audited_responses) | {d.criterion_id: d.response for d in overturned}
            score = await self._call(Activities.SCORE_SUBMISSION, ScoreRequest(
                **self._traced(), city_id=inp.city_id, cycle=inp.cycle, catalog_version=inp.catalog_version,
                audited_responses=responses, region=city.region, population_band=city.population_band,
                revision=self._report_version + 1))
            self._waiting_for = WaitingFor.REPORT
            audited = {f.criterion_id: f.audited for f in findings}
            revision = ReportRevision(
                version=self._report_version + 1, appeal_id=appeal.appeal_id, decided_at=decided.decided_at,
                changes=[AppealChange(criterion_id=d.criterion_id, outcome=d.outcome,
                                      before=audited.get(d.criterion_id, d.response), after=d.response,
                                      reason_code=d.reason_code, explanation=d.explanation)
                         for d in decided.decisions],
                previous_report_id=self._report.report_id if self._report else "",
                previous_tier=previous_tier, previous_percent=previous_percent)
            report = await self._call(Activities.RENDER_REPORT, ReportRequest(
                **self._traced(), submission=inp.submission, changes=review.changes, score=score,
                revision=revision))
            self._score, self._report, self._report_version = score, report, revision.version
        self._waiting_for = WaitingFor.NOTHING
        await self._call(Activities.MAIL_APPEAL_OUTCOME, AppealOutcomeMail(
            **self._traced(), city_id=city.id, appeal_id=appeal.appeal_id, contact_email=city.contact_email,
            city_name=city.name, language=city.language, overturned=[d.criterion_id for d in overturned],
            upheld=[d.criterion_id for d in upheld], tier=self._score.tier, previous_tier=previous_tier,
            report_version=self._report_version, report_url=self._report.url if self._report else None))
        tier = self._score.tier or "not certified"
        await self._enter(Stage.COMPLETED, detail=(
            f"appeal decided: {len(overturned)} overturned, {len(upheld)} upheld - "
            f"{self._score.percent}% - {tier}"))

    def _next_appeal_moment(self, opened: AppealOpened):
        due = opened.due_at
        if self._appeal_reminded_for != due and workflow.now() < due:
            return due - opened.remind_before
        if self._appeal_escalated_for != due:
            return due
        return None

    async def _appeal_reminders(self, opened: AppealOpened) -> None:
        now, due = workflow.now(), opened.due_at
        if now >= due and self._appeal_escalated_for != due:
            self._appeal_escalated_for = self._appeal_reminded_for = due
            kind = ReviewReminderKind.OVERDUE
        elif now >= due - opened.remind_before and self._appeal_reminded_for != due:
            self._appeal_reminded_for = due
            kind = ReviewReminderKind.DUE_SOON
        else:
            return
        await self._call(Activities.REMIND_APPEAL, AppealReminder(
            **self._traced(), appeal_id=opened.appeal_id, kind=kind, due_at=due))

    # --- plumbing -----------------------------------------------------------------------

    def _traced(self) -> dict:
        assert self._input is not None
        return {"submission_id": self._input.submission_id, "correlation_id": self._input.correlation_id}

    def _raise_if_withdrawn(self) -> None:
        if self._withdrawal is not None:
            raise Withdrawn()

    async def _enter(self, stage: Stage, detail: str = "") -> None:
        previous = self._stage
        self._stage = stage
        self._waiting_for = WAITING_FOR[stage]
        self._history.append(StageEntry(stage=stage, at=workflow.now()))
        workflow.upsert_search_attributes([SearchAttributes.STAGE.value_set(stage.value)])
        await self._call(Activities.RECORD_STATUS, StatusRecord(
            **self._traced(), status=stage, previous=previous, detail=detail, waiting_for=self._waiting_for,
            at=workflow.now(), actor_name=self._actor_of(stage)))

    def _actor_of(self, stage: Stage) -> str:
        """Who moved the submission to `stage`, when a person did: a withdrawal names who withdrew."""
        return self._withdrawal.by_name if stage == Stage.WITHDRAWN and self._withdrawal else ""

    async def _call(self, spec: ActivitySpec, arg):
        if spec.local:
            return await workflow.execute_local_activity(
                spec.name, arg, result_type=spec.result, start_to_close_timeout=spec.start_to_close,
                retry_policy=spec.retry)
        prefix = self._input.task_queue_prefix if self._input else ""
        while True:
            try:
                return await workflow.execute_activity(
                    spec.name, arg, task_queue=f"{prefix}{spec.queue}", result_type=spec.result,
                    start_to_close_timeout=spec.start_to_close, heartbeat_timeout=spec.heartbeat,
                    retry_policy=spec.retry)
            except ActivityError as err:
                cause = err.cause
                if not (isinstance(cause, ApplicationError) and cause.type == BAD_DATA):
                    raise
                await self._wait_for_operator(spec.name, cause.message)

    async def _wait_for_operator(self, step: str, error: str) -> None:
        """Bad data fails the step at once (no retries that cannot help) and the
        certification waits, visibly, until an operator corrects the cause and retries it."""
        self._failing = (step, error)
        waiting_before = self._waiting_for
        self._waiting_for = WaitingFor.OPERATOR
        await self._call(Activities.RECORD_STEP, StepRecord(
            **self._traced(), stage=self._stage, step=step, error=error))
        seen = len(self._retries)
        await workflow.wait_condition(
            lambda: len(self._retries) > seen
            or (self._withdrawal is not None and self._stage in WITHDRAWABLE_STAGES))
        self._failing, self._waiting_for = None, waiting_before
        self._raise_if_withdrawn()
        await self._call(Activities.RECORD_STEP, StepRecord(
            **self._traced(), stage=self._stage, step=step, retried_by=self._retries[-1].by))

    # --- signals, updates, queries ------------------------------------------------------

    @workflow.update(name=Update.WITHDRAW)
    async def withdraw(self, withdrawal: Withdrawal) -> CertificationStatus:
        """Accepted only before scoring starts; answers once the withdrawal is recorded."""
        self._withdrawal = withdrawal
        await workflow.wait_condition(lambda: self._stage == Stage.WITHDRAWN)
        return self.status()

    @withdraw.validator
    def _may_withdraw(self, withdrawal: Withdrawal) -> None:
        if self._stage not in WITHDRAWABLE_STAGES:
            raise ValueError(f"too late to withdraw: the submission is at the stage {self._stage.value}")

    @workflow.signal(name=Signal.REQUEST_CLARIFICATION)
    def request_clarification(self, request: ClarificationRequest) -> None:
        # Not once the review decision exists or is being made: nothing would wait for it.
        if self._review is None and not self._deciding and self._stage in WITHDRAWABLE_STAGES:
            self._clarifications.setdefault(request.request_id, request)

    @workflow.signal(name=Signal.CLARIFICATION_ANSWERED)
    def clarification_answered(self, answer: ClarificationAnswer) -> None:
        if answer.request_id in self._clarifications:
            self._answered.add(answer.request_id)
        elif workflow.patched("answer-before-request"):
            # The answer can overtake its request: audit signals the request and intake the
            # answer, each through its own relay. Dropped, the request arriving next would
            # hold the review until the round's due date, weeks away.
            self._answered.add(answer.request_id)

    @workflow.signal(name=Signal.REVIEW_COMPLETED)
    def review_completed(self, outcome: ReviewOutcome) -> None:
        if self._review is None:
            self._review = outcome

    @workflow.signal(name=Signal.DEBRIEF_BOOKED)
    def debrief_booked(self, booking: DebriefBooking) -> None:
        # A booking signal redelivered after its cancellation must not bring it back.
        if booking.booking_id in self._cancelled_bookings and workflow.patched("ignore-cancelled-booking"):
            return
        current = self._booking
        if current is None or current.booking_id != booking.booking_id or booking.sequence > current.sequence:
            self._booking = booking

    @workflow.signal(name=Signal.DEBRIEF_CANCELLED)
    def debrief_cancelled(self, cancellation: DebriefCancellation) -> None:
        self._cancelled_bookings.add(cancellation.booking_id)
        if self._booking is not None and self._booking.booking_id == cancellation.booking_id:
            self._booking = None

    @workflow.signal(name=Signal.DEBRIEF_COMPLETED)
    def debrief_completed(self, result: DebriefResult) -> None:
        if self._debrief_result is None:
            self._debrief_result = result

    @workflow.signal(name=Signal.CASE_HOLDER)
    def case_holder(self, holder: CaseHolder) -> None:
        if self._holder_at is not None and holder.at <= self._holder_at:
            return
        self._auditor, self._holder_at = holder.auditor_id, holder.at
        workflow.upsert_search_attributes([
            SearchAttributes.AUDITOR.value_set(holder.auditor_id) if holder.auditor_id
            else SearchAttributes.AUDITOR.value_unset()])

    @workflow.signal(name=Signal.RETRY_STEP)
    def retry_step(self, retry: StepRetry) -> None:
        if self._failing is not None:
            self._retries.append(retry)

    @workflow.signal(name=Signal.APPEAL_FILED)
    def appeal_filed(self, filed: AppealFiled) -> None:
        # One appeal per certification (intake refuses a second; a redelivery changes nothing),
        # and only while the window is open (intake refuses one before completion).
        if self._appeal is None and self._appeal_open_until is not None \
                and filed.filed_at <= self._appeal_open_until:
            self._appeal = filed

    @workflow.signal(name=Signal.APPEAL_DECIDED)
    def appeal_decided(self, decided: AppealDecided) -> None:
        if self._appeal_decided is None and self._appeal is not None \
                and decided.appeal_id == self._appeal.appeal_id:
            self._appeal_decided = decided

    @workflow.query(name=Query.STATUS)
    def status(self) -> CertificationStatus:
        score = self._score
        return CertificationStatus(
            submission_id=self._input.submission_id if self._input else "",
            stage=self._stage,
            history=list(self._history),
            waiting_for=self._waiting_for,
            open_clarifications=self._open(),
            answered_clarifications=sorted(self._answered),
            expired_clarifications=sorted(self._expired),
            review_case_id=self._case_id,
            review_due_at=self._due_at,
            score=ScoreSummary(met=score.met, total=score.total, percent=score.percent, tier=score.tier)
            if score else None,
            report_id=self._report.report_id if self._report else None,
            report_url=self._report.url if self._report else None,
            debrief_offer_id=self._offer.offer_id if self._offer else None,
            debrief_starts_at=self._booking.starts_at if self._booking else None,
            debrief_outcome=self._debrief_outcome,
            withdrawn_reason=self._withdrawal.reason if self._withdrawal else None,
            missing_evidence=list(self._missing_evidence),
            review_auditor_id=self._auditor,
            failing_step=self._failing[0] if self._failing else None,
            failure=self._failing[1] if self._failing else None,
            appeal_open_until=self._appeal_open_until,
            appeal=self._appeal,
            appeal_decided=self._appeal_decided,
            report_version=self._report_version,
        )

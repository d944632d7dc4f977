"""Audit's activities (audit task queue): the certification workflow's review step.

In auditor mode the workflow opens the case (`open_review`, which also hands audit its
copy of the submission), tells audit when the review clock moves (`set_review_due`),
when to remind the holder or escalate to operators (`remind_review`) and when a
clarification round expired unanswered (`close_round`); the review itself comes back as
the `review_completed` signal once a second auditor approved it. "auto" mode (benchmarks,
tests) confirms every response at once (`complete_review`).
"""

from __future__ import annotations

from temporalio import activity

from certification.activities import (
    Activities,
    AppealOpened,
    AppealReminder,
    AppealRequest,
    ReviewDue,
    ReviewOpened,
    ReviewOutcome,
    ReviewReminder,
    ReviewRequest,
    RoundClosed,
    bad_data,
)
from services.audit.appeals import service as appeals
from services.audit.cases import service as cases
from services.audit.rounds import service as rounds
from services.audit.trail import service as trail
from services.audit.config import AuditOptions
from services.audit.errors import NotFound
from shared.infra.runtime import ServiceRuntime

class AuditActivities:
    def __init__(self, runtime: ServiceRuntime, options: AuditOptions | None = None) -> None:
        self.runtime = runtime
        self.options = options or AuditOptions()

    async def _open(self, session, req: ReviewRequest):
        sub = req.submission
        case, _ = await cases.open_case(session, self.options, submission_id=req.submission_id, city_id=sub.city.id,
                                        correlation_id=req.correlation_id, city_name=sub.city.name,
                                        cycle=sub.cycle, catalog_version=sub.catalog_version, actor=trail.WORKFLOW)
        return await cases.receive(session, case, sub)

    @activity.defn(name=Activities.OPEN_REVIEW.name)
    async def open_review(self, req: ReviewRequest) -> ReviewOpened:
        """Open (or find) the case with audit's copy of the submission; its due date."""
        async with self.runtime.db.transaction() as session:
            case = await self._open(session, req)
            opened = ReviewOpened(case_id=case.id, due_at=case.due_at, remind_before=self.options.remind_before)
        self.runtime.wake_relay()
        return opened

    @activity.defn(name=Activities.COMPLETE_REVIEW.name)
    async def complete_review(self, req: ReviewRequest) -> ReviewOutcome:
        """Automatic review: confirms every response as submitted (review mode "auto")."""
        async with self.runtime.db.transaction() as session:
            case = await self._open(session, req)
            case = await cases.complete_automatically(session, case, req.correlation_id)
            outcome = ReviewOutcome(case_id=case.id, audited_responses=case.audited_responses,
                                    corrections=case.corrections)
        self.runtime.wake_relay()
        return outcome

    @staticmethod
    async def _known(session, case_id: str) -> None:
        try:
            await cases.by_id(session, case_id)
        except NotFound as exc:  # no retry can make it appear
            raise bad_data(exc.detail) from None

    @activity.defn(name=Activities.SET_REVIEW_DUE.name)
    async def set_review_due(self, req: ReviewDue) -> None:
        async with self.runtime.db.transaction() as session:
            await self._known(session, req.case_id)
            await cases.set_due(session, req.case_id, req.due_at)

    @activity.defn(name=Activities.REMIND_REVIEW.name)
    async def remind_review(self, req: ReviewReminder) -> None:
        """`due_soon`: the holder is reminded; `overdue`: operators are told (notify mails
        both). Once per due date, however often the activity runs."""
        async with self.runtime.db.transaction() as session:
            await self._known(session, req.case_id)
            await cases.remind(session, req.case_id, req.kind, req.due_at, req.correlation_id)
        self.runtime.wake_relay()

    @activity.defn(name=Activities.CLOSE_ROUND.name)
    async def close_round(self, req: RoundClosed) -> None:
        async with self.runtime.db.transaction() as session:
            await self._known(session, req.case_id)
            await rounds.expire(session, req.case_id, req.request_id)

    @activity.defn(name=Activities.OPEN_APPEAL.name)
    async def open_appeal(self, req: AppealRequest) -> AppealOpened:
        """Open (or find) the appeal's case: its findings, who may not decide it, its due date."""
        async with self.runtime.db.transaction() as session:
            appeal = await appeals.open_appeal(session, self.options, req)
            out = appeals.opened(appeal, self.options)
        self.runtime.wake_relay()
        return out

    @activity.defn(name=Activities.REMIND_APPEAL.name)
    async def remind_appeal(self, req: AppealReminder) -> None:
        """As `remind_review`, for an appeal's clock: `due_soon` reminds the auditors deciding
        it (operators when nobody is), `overdue` tells operators (notify mails both). Once
        per due date, however often the activity runs."""
        async with self.runtime.db.transaction() as session:
            try:
                await appeals.by_id(session, req.appeal_id)
            except NotFound as exc:
                raise bad_data(exc.detail) from None
            await appeals.remind(session, req.appeal_id, req.kind, req.due_at, req.correlation_id)
        self.runtime.wake_relay()

    def all(self) -> list:
        return [self.open_review, self.complete_review, self.set_review_due, self.remind_review, self.close_round,
                self.open_appeal, self.remind_appeal]

"""Audit's activities (audit task queue)."""

from __future__ import annotations

from temporalio import activity

from shared.contracts.workflows import Activity, ReviewOutcome, ReviewRequest
from shared.infra.runtime import ServiceRuntime
from services.audit import service


class AuditActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activity.AUDIT_COMPLETE_REVIEW)
    async def complete_review(self, req: ReviewRequest) -> ReviewOutcome:
        """Automatic review: confirms every response as submitted (review_mode "auto")."""
        async with self.runtime.db.transaction() as session:
            answers = req.submission.answers()
            case = await service.open_case(session, submission_id=req.submission_id, city_id=req.submission.city.id,
                                           correlation_id=req.correlation_id, responses=answers)
            case = await service.complete_review(session, case, answers, req.correlation_id)
            outcome = ReviewOutcome(case_id=case.id, audited_responses=case.audited_responses,
                                    corrections=case.corrections)
        self.runtime.wake_relay()
        return outcome

    def all(self) -> list:
        return [self.complete_review]

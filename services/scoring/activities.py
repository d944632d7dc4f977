"""Scoring's activities (scoring task queue)."""

from __future__ import annotations

from temporalio import activity

from shared.contracts.workflows import Activity, ScoreOutcome, ScoreRequest
from shared.infra.runtime import ServiceRuntime
from services.scoring import service


class ScoringActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activity.SCORING_SCORE_SUBMISSION)
    async def score_submission(self, req: ScoreRequest) -> ScoreOutcome:
        async with self.runtime.db.transaction() as session:
            row = await service.store_score(session, req)
            outcome = ScoreOutcome(met=row.met, total=row.total, percent=row.percent, tier=row.tier)
        self.runtime.wake_relay()
        return outcome

    def all(self) -> list:
        return [self.score_submission]

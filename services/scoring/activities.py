"""Scoring's activities (scoring task queue)."""

from __future__ import annotations

from temporalio import activity

from certification.activities import Activities, ScoreOutcome, ScoreRequest, bad_data
from services.scoring import service
from shared.catalog import CatalogError
from shared.infra.runtime import ServiceRuntime
from shared.scoring.engine import ScoringInputError


class ScoringActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activities.SCORE_SUBMISSION.name)
    async def score_submission(self, req: ScoreRequest) -> ScoreOutcome:
        try:
            async with self.runtime.db.transaction() as session:
                outcome = await service.score_submission(session, req)
        except (CatalogError, ScoringInputError) as exc:  # no retry can help: an operator must
            raise bad_data(f"cannot score submission {req.submission_id}: {exc}") from exc
        self.runtime.wake_relay()
        return outcome

    def all(self) -> list:
        return [self.score_submission]

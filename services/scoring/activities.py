"""Scoring's activities (scoring task queue)."""

from __future__ import annotations

from temporalio import activity

from certification.activities import Activities, ScoreOutcome, ScoreRequest, bad_data
from services.scoring import benchmark_releases, service
from shared.catalog import CatalogError
from shared.infra.runtime import ServiceRuntime
from shared.scoring.engine import ScoringInputError


class ScoringActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activities.SCORE_SUBMISSION.name)
    async def score_submission(self, req: ScoreRequest) -> ScoreOutcome:
        """Score once (a retry returns the stored score), with the benchmarks published at
        that moment: the report shows the same figures however late it is rendered."""
        try:
            async with self.runtime.db.transaction() as session:
                row = await service.store_score(session, req)
                figures, _release = await benchmark_releases.published(session, req.cycle)
                outcome = ScoreOutcome(met=row.met, total=row.total, percent=row.percent, tier=row.tier,
                                       benchmarks=figures)
        except (ScoringInputError, CatalogError, FileNotFoundError, KeyError) as exc:
            raise bad_data(f"cannot score submission {req.submission_id}: {exc}") from exc
        self.runtime.wake_relay()
        return outcome

    def all(self) -> list:
        return [self.score_submission]

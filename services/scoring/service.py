"""Scoring use cases: score a submission once, store it, publish score.computed, and
hand the workflow the whole result."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from certification.activities import ScoreOutcome, ScoreRequest
from shared.catalog import Catalog
from shared.catalog.loader import load_catalog
from shared.contracts.events import ScoreComputed, Subject, make_event
from shared.infra.orm import utcnow
from shared.infra.outbox import add_event
from shared.scoring.engine import ScoreResult, score
from shared.scoring.simulator import path_for
from services.scoring import benchmark_releases
from services.scoring.models import Score


async def score_submission(session: AsyncSession, req: ScoreRequest) -> ScoreOutcome:
    """The score the workflow carries to the report: computed once, with the benchmarks
    published at that moment and the way to the next tier they rank, so the report shows
    the same figures however late it is rendered and never scores again."""
    catalog = load_catalog(req.catalog_version)
    row, result = await store_score(session, req, catalog)
    figures, _release = await benchmark_releases.published(session, req.cycle)
    return ScoreOutcome(met=row.met, total=row.total, percent=row.percent, tier=row.tier,
                        benchmarks=figures, result=result,
                        path=path_for(catalog, result, figures, req.population_band))


async def store_score(session: AsyncSession, req: ScoreRequest,
                      catalog: Catalog | None = None) -> tuple[Score, ScoreResult]:
    """The submission's score, computed once per revision (a retried activity gets the
    stored one); a later revision (an appeal overturned a finding) replaces it."""
    existing = await session.get(Score, req.submission_id, with_for_update=True)
    if existing is not None and (existing.revision or 1) >= req.revision:
        return existing, ScoreResult.model_validate(existing.result)
    result = score(catalog or load_catalog(req.catalog_version), req.audited_responses)
    values = dict(
        city_id=req.city_id, cycle=req.cycle,
        catalog_version=req.catalog_version, region=req.region, population_band=req.population_band,
        met=result.met, total=result.total, percent=result.percent, tier=result.tier,
        result=result.model_dump(mode="json"), computed_at=utcnow(), revision=req.revision,
    )
    if existing is not None:
        for k, v in values.items():
            setattr(existing, k, v)
        row = existing
    else:
        row = Score(submission_id=req.submission_id, **values)
        session.add(row)
    await add_event(session, make_event(
        Subject.SCORE_COMPUTED,
        ScoreComputed(
            submission_id=req.submission_id, city_id=req.city_id, cycle=req.cycle,
            catalog_version=req.catalog_version, region=req.region, population_band=req.population_band,
            met=result.met, total=result.total, percent=result.percent, tier=result.tier,
            area_percent={a.id: a.percent for a in result.areas},
            met_criteria=[c.id for c in result.criteria if c.met], computed_at=row.computed_at,
            version=req.revision,
        ),
        submission_id=req.submission_id, city_id=req.city_id, correlation_id=req.correlation_id,
    ))
    return row, result

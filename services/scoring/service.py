"""Scoring use cases: score a submission once, store it, publish score.computed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from certification.activities import ScoreRequest
from shared.catalog.loader import load_catalog
from shared.contracts.events import ScoreComputed, Subject, make_event
from shared.infra.orm import utcnow
from shared.infra.outbox import add_event
from shared.scoring.engine import score
from services.scoring.models import Score


async def store_score(session: AsyncSession, req: ScoreRequest) -> Score:
    existing = await session.get(Score, req.submission_id)
    if existing is not None:
        return existing  # a retried activity: scored and published once already
    result = score(load_catalog(req.catalog_version), req.audited_responses)
    row = Score(
        submission_id=req.submission_id, city_id=req.city_id, cycle=req.cycle,
        catalog_version=req.catalog_version, region=req.region, population_band=req.population_band,
        met=result.met, total=result.total, percent=result.percent, tier=result.tier,
        result=result.model_dump(mode="json"), computed_at=utcnow(),
    )
    session.add(row)
    await add_event(session, make_event(
        Subject.SCORE_COMPUTED,
        ScoreComputed(
            submission_id=req.submission_id, city_id=req.city_id, cycle=req.cycle,
            catalog_version=req.catalog_version, region=req.region, population_band=req.population_band,
            met=result.met, total=result.total, percent=result.percent, tier=result.tier,
            area_percent={a.id: a.percent for a in result.areas},
            met_criteria=[c.id for c in result.criteria if c.met], computed_at=row.computed_at,
        ),
        submission_id=req.submission_id, city_id=req.city_id, correlation_id=req.correlation_id,
    ))
    return row

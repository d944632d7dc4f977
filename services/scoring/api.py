"""Scoring's JSON API."""

from __future__ import annotations

from fastapi import APIRouter, Request

from shared.infra.auth import CurrentPrincipal
from shared.infra.http import ProblemError
from services.scoring.models import Score

router = APIRouter(prefix="/api/v1", tags=["scoring"])


@router.get("/scores/{submission_id}")
async def get_score(submission_id: str, principal: CurrentPrincipal, request: Request) -> dict:
    async with request.app.state.runtime.db.sessionmaker() as session:
        row = await session.get(Score, submission_id)
    # A city sees its own scores only; another city's is reported as absent.
    if row is None or not principal.can_see_city(row.city_id):
        raise ProblemError(404, "Not found", f"no score for submission {submission_id}")
    return {"submission_id": row.submission_id, "city_id": row.city_id, "cycle": row.cycle,
            "catalog_version": row.catalog_version, "met": row.met, "total": row.total,
            "percent": row.percent, "tier": row.tier, "result": row.result,
            "computed_at": row.computed_at.isoformat()}

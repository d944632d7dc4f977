"""Audit's JSON API: the review queue (read side for now)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from shared.infra.auth import Principal, Role, require_roles
from shared.errors import NotFound
from services.audit.models import ReviewCase

router = APIRouter(prefix="/api/v1", tags=["audit"])
Staff = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.OPERATOR))]


def _case(c: ReviewCase) -> dict:
    return {"id": c.id, "submission_id": c.submission_id, "city_id": c.city_id, "status": c.status,
            "corrections": c.corrections, "opened_at": c.opened_at.isoformat(),
            "completed_at": c.completed_at.isoformat() if c.completed_at else None}


@router.get("/cases")
async def list_cases(_: Staff, request: Request, status: str | None = None) -> list[dict]:
    async with request.app.state.runtime.db.sessionmaker() as session:
        q = select(ReviewCase).order_by(ReviewCase.opened_at)
        if status:
            q = q.where(ReviewCase.status == status)
        return [_case(c) for c in (await session.scalars(q)).all()]


@router.get("/cases/by-submission/{submission_id}")
async def case_for_submission(submission_id: str, _: Staff, request: Request) -> dict:
    async with request.app.state.runtime.db.sessionmaker() as session:
        case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == submission_id))
    if case is None:
        raise NotFound(f"no review case for submission {submission_id}")
    return _case(case)

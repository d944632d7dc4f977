"""Reporting's JSON API: reports and the operator pipeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from shared.infra.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.errors import NotFound
from services.reporting.models import PipelineEntry, Report
from services.reporting.service import REPORTS_BUCKET

router = APIRouter(prefix="/api/v1", tags=["reporting"])
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.AUDITOR))]


@router.get("/pipeline")
async def pipeline(_: Operator, request: Request) -> list[dict]:
    async with request.app.state.runtime.db.sessionmaker() as session:
        rows = (await session.scalars(select(PipelineEntry).order_by(PipelineEntry.updated_at.desc()))).all()
    return [{"submission_id": r.submission_id, "city_id": r.city_id, "status": r.status, "detail": r.detail,
             "updated_at": r.updated_at.isoformat()} for r in rows]


@router.get("/reports/by-submission/{submission_id}", response_class=HTMLResponse)
async def report_html(submission_id: str, principal: CurrentPrincipal, request: Request) -> HTMLResponse:
    rt = request.app.state.runtime
    async with rt.db.sessionmaker() as session:
        report = await session.scalar(select(Report).where(Report.submission_id == submission_id))
    if report is None or not principal.can_see_city(report.city_id):
        raise NotFound(f"no report for submission {submission_id}")
    html = await rt.storage.get_bytes(rt.storage.bucket(REPORTS_BUCKET), report.object_key)
    return HTMLResponse(html.decode())

"""Reporting use cases: render and store a submission's report; keep the pipeline view."""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import ReportReady, Subject, make_event
from shared.contracts.workflows import ReportRequest
from shared.infra.orm import new_id
from shared.infra.outbox import add_event
from shared.infra.storage import ObjectStore
from services.reporting.models import PipelineEntry, Report

REPORTS_BUCKET = "reports"


def render_html(req: ReportRequest) -> str:
    s = req.score
    tier = s.tier.title() if s.tier else "Not yet certified"
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>Certification Report - {escape(req.city_name)}</title>"
        f"<h1>{escape(req.city_name)}: What Works Cities Certification {escape(req.cycle)}</h1>"
        f"<p>Your city has achieved {s.met} of {s.total} criteria ({s.percent}%).</p>"
        f"<p>Tier: <strong>{escape(tier)}</strong></p></html>"
    )


async def render_report(session: AsyncSession, store: ObjectStore, req: ReportRequest) -> Report:
    existing = await session.scalar(select(Report).where(Report.submission_id == req.submission_id))
    if existing is not None:
        return existing
    report_id = new_id()
    key = f"{req.cycle}/{req.city_id}/{req.submission_id}/{report_id}.html"
    # The object is written first under a fresh key: a retry after a failed commit writes
    # a new key and leaves an orphan, never a row without its object.
    await store.put_bytes(store.bucket(REPORTS_BUCKET), key, render_html(req).encode(),
                          content_type="text/html; charset=utf-8")
    report = Report(id=report_id, submission_id=req.submission_id, city_id=req.city_id, object_key=key)
    session.add(report)
    await add_event(session, make_event(
        Subject.REPORT_READY, ReportReady(submission_id=req.submission_id, report_id=report_id, object_key=key),
        submission_id=req.submission_id, city_id=req.city_id, correlation_id=req.correlation_id,
    ))
    return report


async def track(session: AsyncSession, *, submission_id: str, city_id: str | None, status: str,
                at: datetime, detail: str = "") -> None:
    """Events from different consumers may arrive out of order: the newest fact wins."""
    entry = await session.get(PipelineEntry, submission_id, with_for_update=True)
    if entry is None:
        session.add(PipelineEntry(submission_id=submission_id, city_id=city_id, status=status, detail=detail,
                                  updated_at=at))
    elif at >= entry.updated_at:
        entry.status, entry.detail, entry.updated_at = status, detail, at

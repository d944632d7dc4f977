"""Rendering a submission's Certification Report when the workflow asks for it: build the
frozen document from what the workflow carries (the frozen submission, the audited
responses and changes, the score and the benchmarks published when it was computed),
render it in the city's language, store document and renders, record and publish."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.models import Report
from services.reporting.report import ChangeInput, CityInput, ReportDocument, build_document, render_html, render_pdf
from shared.catalog.loader import load_catalog
from shared.contracts.activities import ReportRequest
from shared.contracts.events import ReportReady, Subject, make_event
from shared.infra.orm import new_id
from shared.infra.outbox import add_event
from shared.infra.storage import ObjectStore
from shared.scoring.benchmarks import BenchmarkBook, publish

REPORTS_BUCKET = "reports"
# Verification codes: unambiguous letters and digits, grouped for reading aloud.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def verification_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"WWC-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def keys(cycle: str, city_id: str, submission_id: str, report_id: str) -> dict[str, str]:
    base = f"{cycle}/{city_id}/{submission_id}/{report_id}"
    return {"document": f"{base}/document.json", "html": f"{base}/report-{{lang}}.html",
            "pdf": f"{base}/report-{{lang}}.pdf"}


def document_for(req: ReportRequest, *, code: str | None, urls: dict[str, str], at: datetime) -> ReportDocument:
    sub = req.submission
    city = sub.city
    benchmarks = req.score.benchmarks or publish(BenchmarkBook(), sub.cycle)
    return build_document(
        catalog=load_catalog(sub.catalog_version), cycle=sub.cycle,
        city=CityInput(name=city.name, population=city.population, state=city.state or None, country=city.country,
                       region=city.region, population_band=city.population_band),
        responses={cid: str(a) for cid, a in req.audited_responses.items()},
        changes=[ChangeInput(criterion=c.criterion, from_response=c.from_response, to_response=c.to_response,
                             reason_code=c.reason_code, reason=c.explanation,
                             what_would_satisfy=c.what_would_satisfy or None) for c in req.changes],
        benchmarks=benchmarks, language=city.language if city.language in ("en", "es", "pt") else "en",
        rendered_at=at, verification_code=code,
        verification_url=f"{urls['reporting']}/verify?code={code}" if code else None,
        debrief_url=f"{urls['notify']}/booking/{req.submission_id}",
    )


async def render_report(session: AsyncSession, store: ObjectStore, req: ReportRequest, *,
                        urls: dict[str, str]) -> Report:
    """Once per submission: a retry returns the report already recorded."""
    existing = await session.scalar(select(Report).where(Report.submission_id == req.submission_id))
    if existing is not None:
        return existing
    report_id = new_id()
    certified = req.score.tier is not None
    code = verification_code() if certified else None
    doc = document_for(req, code=code, urls=urls, at=datetime.now(UTC).replace(microsecond=0))
    lang = doc.language
    # WeasyPrint and matplotlib are CPU-bound: off the event loop.
    html = await asyncio.to_thread(render_html, doc, lang)
    pdf = await asyncio.to_thread(render_pdf, doc, lang)
    where = keys(req.submission.cycle, req.city_id, req.submission_id, report_id)
    bucket = store.bucket(REPORTS_BUCKET)
    # Objects first under fresh keys: a retry after a failed commit leaves an orphan, never
    # a row without its objects.
    await store.put_bytes(bucket, where["document"], doc.model_dump_json().encode(), content_type="application/json")
    await store.put_bytes(bucket, where["html"].format(lang=lang), html.encode(),
                          content_type="text/html; charset=utf-8")
    await store.put_bytes(bucket, where["pdf"].format(lang=lang), pdf, content_type="application/pdf")
    report = Report(id=report_id, submission_id=req.submission_id, city_id=req.city_id,
                    object_key=where["document"], city_name=req.submission.city.name, cycle=req.submission.cycle,
                    language=lang, tier=req.score.tier, verification_code=code,
                    pdf_sha256=hashlib.sha256(pdf).hexdigest())
    session.add(report)
    await add_event(session, make_event(
        Subject.REPORT_READY,
        ReportReady(submission_id=req.submission_id, report_id=report_id, object_key=where["document"],
                    city_id=req.city_id, cycle=req.submission.cycle, language=lang, tier=req.score.tier,
                    url=f"{urls['reporting']}/reports/{report_id}", verification_code=code),
        submission_id=req.submission_id, city_id=req.city_id, correlation_id=req.correlation_id,
    ))
    return report

"""Issuing a submission's Certification Report when the workflow asks for it: build the
frozen document from what the workflow carries (the frozen submission, the audited
responses and changes, the score and the benchmarks published when it was computed),
render it in the city's language, store document and renders, record and publish.

No database connection is held while the report renders: one short read to find an
earlier issue, the render in a worker process, the objects stored, then one short
transaction that records the report and its event (a retry finds the row and returns it).

A report reissued after an appeal (`ReportRequest.revision`) is another version of the
same submission's report: its own frozen document (with what changed on appeal and what
it replaces), renders and verification code. Issuing is idempotent on (submission,
version): a redelivered or retried request returns the version already recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

from sqlalchemy import select

from certification.activities import ReportRequest
from services.reporting.models import LedgerEntry, Report
from services.reporting.programme import applied_in
from services.reporting.renders import CONTENT_TYPES, Renders, keys
from services.reporting.report import (
    AppealInput,
    ChangeInput,
    CityInput,
    ReportDocument,
    ReportInputError,
    RevisionInput,
    build_document,
)
from services.reporting.report.document import TrailCheckpoint
from services.reporting.verification import verification_code
from shared.catalog.loader import load_catalog
from shared.contracts.events import ReportReady, Subject, make_event
from shared.i18n import language
from shared.infra.db import Database
from shared.infra.orm import insert_if_absent, new_id
from shared.infra.outbox import add_event
from shared.scoring.benchmarks import BenchmarkBook, publish


async def trail_checkpoint(session, submission_id: str) -> TrailCheckpoint | None:
    """The last head of the review's trail that audit published and the ledger kept."""
    rows = (await session.scalars(select(LedgerEntry.payload).where(
        LedgerEntry.subject == Subject.TRAIL_CHECKPOINTED, LedgerEntry.submission_id == submission_id))).all()
    if not rows:
        return None
    last = max(rows, key=lambda p: int(p.get("seq", 0)))
    return TrailCheckpoint(seq=last["seq"], head=last["head"], at=last["at"])


def revision_input(req: ReportRequest, previous: Report) -> RevisionInput:
    """What the reissued document says about the appeal and the version it replaces."""
    rev = req.revision
    assert rev is not None
    return RevisionInput(
        version=rev.version, replaces_version=previous.version, replaces_issued_at=previous.created_at,
        decided_at=rev.decided_at, previous_tier=rev.previous_tier if rev.previous_tier is not None else previous.tier,
        previous_percent=rev.previous_percent,
        appeals=tuple(AppealInput(criterion=c.criterion_id, outcome=c.outcome.value, before=c.before, after=c.after,
                                  reason_code=c.reason_code, explanation=c.explanation) for c in rev.changes))


def document_for(req: ReportRequest, *, code: str | None, urls: dict[str, str], at: datetime,
                 checkpoint: TrailCheckpoint | None = None, applied: int | None = None,
                 previous: Report | None = None) -> ReportDocument:
    sub = req.submission
    city = sub.city
    benchmarks = req.score.benchmarks or publish(BenchmarkBook(), sub.cycle)
    if req.score.result is None or req.score.path is None:
        field = "score.result" if req.score.result is None else "score.path"
        raise ReportInputError(field, "scoring sent no explainable score and path (a run scored before it did)")
    return build_document(
        catalog=load_catalog(sub.catalog_version), cycle=sub.cycle,
        city=CityInput(name=city.name, population=city.population, state=city.state or None, country=city.country,
                       region=city.region, population_band=city.population_band),
        result=req.score.result, path=req.score.path,
        changes=[ChangeInput(criterion=c.criterion, from_response=c.from_response, to_response=c.to_response,
                             reason_code=c.reason_code, reason=c.explanation,
                             what_would_satisfy=c.what_would_satisfy or None) for c in req.changes],
        benchmarks=benchmarks, language=language(city.language),
        rendered_at=at, verification_code=code,
        verification_url=f"{urls['reporting']}/verify?code={code}" if code else None,
        debrief_url=f"{urls['notify']}/booking/{req.submission_id}", trail_checkpoint=checkpoint,
        applied=applied, revision=revision_input(req, previous) if req.revision is not None and previous else None,
    )


async def issue_report(db: Database, renders: Renders, req: ReportRequest, *, urls: dict[str, str]) -> Report:
    """Once per submission and version: a retry (or an attempt that lost a race) returns
    the report already recorded."""
    version = req.revision.version if req.revision is not None else 1
    async with db.sessionmaker() as session:
        existing = await _issued(session, req.submission_id, version)
        previous = await _previous(session, req) if req.revision is not None and existing is None else None
        checkpoint = await trail_checkpoint(session, req.submission_id)
        # The dashboard's count of the cycle's applicants, as it stands at issue.
        applied = await applied_in(session, req.submission.cycle)
    if existing is not None:
        return existing
    report_id = new_id()
    code = verification_code() if req.score.tier is not None else None
    doc = document_for(req, code=code, urls=urls, at=datetime.now(UTC).replace(microsecond=0), checkpoint=checkpoint,
                       applied=applied, previous=previous)
    lang = doc.language
    rendered = await renders.render(doc, lang, ("html", "pdf"))
    where = keys(req.submission.cycle, req.city_id, req.submission_id, report_id)
    # Objects first under fresh keys (all at once): a failed commit leaves an orphan, never
    # a row without its objects.
    await asyncio.gather(
        renders.store.put_bytes(renders.bucket, where["document"], doc.model_dump_json().encode(),
                                content_type="application/json"),
        *(renders.store.put_bytes(renders.bucket, where[kind].format(lang=lang), data,
                                  content_type=CONTENT_TYPES[kind]) for kind, data in rendered.items()))
    values = dict(id=report_id, submission_id=req.submission_id, city_id=req.city_id, object_key=where["document"],
                  city_name=req.submission.city.name, cycle=req.submission.cycle, language=lang,
                  tier=req.score.tier, verification_code=code,
                  pdf_sha256=hashlib.sha256(rendered["pdf"]).hexdigest(), version=version,
                  replaces_id=previous.id if previous else None,
                  appeal_id=req.revision.appeal_id if req.revision is not None else None,
                  # A city on the Honor Roll stays there when its report is reissued.
                  honor_roll=bool(previous and previous.honor_roll and req.score.tier is not None))
    async with db.transaction() as session:
        if not await insert_if_absent(session, Report, **values, created_at=doc.rendered_at):
            return await _issued(session, req.submission_id, version)  # an earlier attempt recorded it
        await add_event(session, make_event(
            Subject.REPORT_READY,
            ReportReady(submission_id=req.submission_id, report_id=report_id, object_key=where["document"],
                        city_id=req.city_id, cycle=req.submission.cycle, language=lang, tier=req.score.tier,
                        url=f"{urls['reporting']}/reports/{report_id}", verification_code=code, version=version),
            submission_id=req.submission_id, city_id=req.city_id, correlation_id=req.correlation_id,
        ))
    return Report(**values, created_at=doc.rendered_at)


async def _issued(session, submission_id: str, version: int = 1) -> Report | None:
    return await session.scalar(select(Report).where(Report.submission_id == submission_id,
                                                     Report.version == version))


async def _previous(session, req: ReportRequest) -> Report:
    """The version a reissue replaces: the one the workflow names, else the submission's
    latest before it."""
    rev = req.revision
    assert rev is not None
    named = await session.get(Report, rev.previous_report_id) if rev.previous_report_id else None
    if named is not None and named.submission_id == req.submission_id and named.version < rev.version:
        return named
    latest = await session.scalar(select(Report).where(Report.submission_id == req.submission_id,
                                                       Report.version < rev.version)
                                  .order_by(Report.version.desc()).limit(1))
    if latest is None:
        raise ReportInputError("revision.previous_report_id", "no earlier report of this submission to replace")
    return latest

"""The double-review sample and the completed cases as `calibration` reads them: the pairs
of responses (the first review as disclosed at the sign-off request, the blind second
review) and every completed case's submitted and audited responses."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import calibration
from services.audit.config import AuditOptions
from services.audit.domain import CaseState
from services.audit.models import Appeal, AppealDecision, BlindDecision, ReviewCase
from shared.catalog.loader import load_catalog


def _area(version: str, criterion: str) -> str:
    catalog = load_catalog(version or "wwc-2019")
    return catalog.criterion(criterion).area if catalog.has_criterion(criterion) else ""


async def pairs(session: AsyncSession) -> list[calibration.Pair]:
    disclosed = (await session.scalars(select(ReviewCase).where(ReviewCase.double_review.is_(True),
                                                                ReviewCase.first_review.is_not(None)))).all()
    if not disclosed:
        return []
    seconds = (await session.scalars(select(BlindDecision).where(
        BlindDecision.case_id.in_([c.id for c in disclosed])))).all()
    by_case: dict[str, dict[str, BlindDecision]] = {}
    for b in seconds:
        by_case.setdefault(b.case_id, {})[b.criterion_id] = b
    out = []
    for case in sorted(disclosed, key=lambda c: c.id):
        first = case.first_review or {}
        for cid, response in sorted((first.get("responses") or {}).items()):
            second = by_case.get(case.id, {}).get(cid)
            if second is not None:
                out.append(calibration.Pair(case.id, cid, _area(case.catalog_version, cid),
                                            first.get("reviewer_id") or "", second.auditor_id, response,
                                            second.response))
    return out


async def audited(session: AsyncSession) -> list[calibration.Audited]:
    done = (await session.scalars(select(ReviewCase).where(ReviewCase.status == CaseState.COMPLETED.value)
                                  .order_by(ReviewCase.id))).all()
    return [calibration.Audited(case.id, cid, _area(case.catalog_version, cid), case.reviewer_id or "", submitted,
                                (case.audited_responses or {}).get(cid, submitted))
            for case in done for cid, submitted in sorted((case.submitted_responses or {}).items())]


async def appealed(session: AsyncSession) -> list[calibration.Appealed]:
    """Every criterion of a decided appeal, against the reviewer of the appealed case."""
    rows = (await session.execute(
        select(AppealDecision, Appeal, ReviewCase.reviewer_id)
        .join(Appeal, Appeal.id == AppealDecision.appeal_id)
        .outerjoin(ReviewCase, ReviewCase.id == Appeal.case_id)
        .where(Appeal.status == "decided").order_by(Appeal.id, AppealDecision.criterion_id))).all()
    return [calibration.Appealed(appeal.case_id or appeal.id, d.criterion_id, _area(appeal.catalog_version, d.criterion_id),
                                 reviewer or "", d.outcome == "overturned") for d, appeal, reviewer in rows]


async def report(session: AsyncSession, options: AuditOptions) -> calibration.Report:
    """Measured in a worker thread: the bootstrap takes about a second, which the event loop
    (every other request) should not wait for."""
    return await asyncio.to_thread(calibration.measure, await pairs(session), await audited(session),
                                   await appealed(session), threshold=options.agreement_threshold, resamples=options.bootstrap_resamples,
                                   seed=options.bootstrap_seed)

"""One count of applicants: the report issued from the ledger says the number the
programme dashboard shows for the same cycle (cities that submitted an application in it),
not the benchmark cohort (cities whose audited score is published)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from devtools.harness import migrated_database
from services.reporting import programme
from services.reporting.models import LedgerEntry
from services.reporting.report import render_html, render_pdf
from shared.contracts.events import Subject
from tests.reporting.helpers import benchmarks, cohort, pdf_text, report


def _submitted(session, city: str, cycle: str, at: datetime) -> None:
    session.add(LedgerEntry(
        event_id=str(uuid.uuid4()), subject=Subject.SUBMISSION_SUBMITTED, occurred_at=at,
        submission_id=str(uuid.uuid4()),
        payload={"submission_id": str(uuid.uuid4()), "city_id": city, "cycle": cycle,
                 "catalog_version": "wwc-2019", "answered": 45, "evidence_count": 3}))


async def test_the_report_and_the_dashboard_count_the_same_applicants(backend, tmp_path, wwc):
    at = datetime(2026, 11, 1, tzinfo=UTC)
    async with migrated_database("reporting", backend, tmp_path) as db:
        async with db.transaction() as session:
            for i in range(17):
                _submitted(session, f"city-{i}", "2026", at + timedelta(minutes=i))
            for i in range(3):  # submitted again (after a withdrawal, say): still one city each
                _submitted(session, f"city-{i}", "2026", at + timedelta(days=1, minutes=i))
            for i in range(4):  # another cycle's applicants are not this cycle's
                _submitted(session, f"old-{i}", "2025", at - timedelta(days=300))
        async with db.sessionmaker() as session:
            dashboard = await programme.programme(session, cycle="2026")
            applied = await programme.applied_in(session, "2026")
    (cycle,) = dashboard.applicants
    assert cycle.cities == applied == 17

    # Five cities have a published audited score: the comparisons' cohort, said apart.
    bench = benchmarks(wwc, cohort(wwc, [(120_000, "TX", "US")] * 5))
    doc = report(wwc, city={"name": "Riverton", "population": 120_000, "state": "TX", "country": "US"},
                 responses={}, benchmarks=bench, applied=applied)
    html = render_html(doc, "en")
    assert "17 cities applied in the 2026 cycle (cities that submitted an application for the cycle" in html
    assert "The comparisons use the 5 cities whose audited score is published for the 2026 cycle" in html
    assert "5 cities applied" not in html
    assert "17 cities applied in the 2026 cycle" in pdf_text(render_pdf(doc, "en"), tmp_path)

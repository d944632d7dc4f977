"""Notify mails each fact once, even when report.ready arrives before the contact is known."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.contracts.events import ReportReady, Subject, SubmissionSubmitted, make_event
from shared.infra.outbox import add_event
from services.notify.models import SentMail
from devtools.harness import Stack
from tests.infra.test_consumer import eventually


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_report_mail_waits_for_the_contact_instead_of_being_skipped(infra, backend, tmp_path):
    stack = await Stack(infra=infra, backend=backend, tmp=tmp_path, services=("notify",)).start()
    rt = stack.runtimes["notify"]
    rt.settings.nats.max_deliver = 20  # room for the retries while the contact arrives
    try:
        report = make_event(Subject.REPORT_READY, ReportReady(submission_id="s1", report_id="r1"),
                            submission_id="s1", city_id="c1")
        submitted = make_event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
            submission_id="s1", city_id="c1", cycle="2026", catalog_version="wwc-2019", answered=45,
            evidence_count=30, city_name="Riverton", contact_email="dana@riverton.gov"),
            submission_id="s1", city_id="c1")
        for event in (report, submitted):  # the report's fact is relayed first
            async with rt.db.transaction() as session:
                await add_event(session, event)
            rt.wake_relay()

        async def mails():
            async with rt.db.sessionmaker() as session:
                found = (await session.scalars(select(SentMail))).all()
            return found if len(found) == 2 else None

        sent = await eventually(mails, timeout=30)
        assert {m.subject for m in sent} == {"Your Certification Report is ready",
                                            "We received Riverton's 2026 assessment"}
        assert {m.to for m in sent} == {"dana@riverton.gov"}
    finally:
        await stack.stop()

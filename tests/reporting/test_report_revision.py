"""A report reissued after an appeal, against reporting alone (real database, S3 and
renderer): version 2 of the same submission with its own code and a section on what changed
on appeal (HTML and PDF, in each language); version 1 still opens, and its verification
says it is superseded and leads to version 2; the same request again (a redelivery or a
retry) issues nothing new; the roster counts the city once, with its new tier."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from certification.activities import AppealChange, ReportRequest, ReportRevision, ScoreOutcome
from devtools.harness import Stack
from services.reporting import roster
from services.reporting.issuing import issue_report
from services.reporting.models import Report
from services.reporting.report import render_pdf
from shared.catalog import load_catalog
from shared.contracts.payloads.audit import AuditedChange
from shared.contracts.vocabulary import AppealOutcome, Answer
from shared.infra.auth import Role
from shared.infra.settings import service_urls
from shared.infra.tables import outbox
from shared.scoring.benchmarks import BenchmarkBook, publish
from shared.scoring.engine import score
from shared.scoring.simulator import path_for
from tests.conftest import token
from tests.factories import frozen_submission
from tests.portal.conftest import chromium  # noqa: F401 - the browser
from tests.reporting.helpers import pdf_text

CATALOG = load_catalog("wwc-2019")
DECIDED = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture
async def reporting(infra, tmp_path):
    stack = await Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("reporting",)).start()
    yield stack
    await stack.stop()


def scored(responses: dict[str, str], cycle: str = "2026") -> ScoreOutcome:
    result = score(CATALOG, responses)
    benchmarks = publish(BenchmarkBook(), cycle)
    return ScoreOutcome(met=result.met, total=result.total, percent=result.percent, tier=result.tier, result=result,
                        benchmarks=benchmarks, path=path_for(CATALOG, result, benchmarks, "100K-250K"))


def requests(sid: str, language: str = "es") -> tuple[ReportRequest, ReportRequest]:
    """The first report (two audited changes) and the reissue after the appeal of both:
    DG1 overturned (back to Yes), GM1 upheld."""
    submitted = {c.id: "YES" for c in CATALOG.criteria}
    audited = {**submitted, "DG1": "NO", "GM1": "NO"}
    others = [cid for cid in reversed(list(audited)) if cid not in ("DG1", "GM1")]
    for cid in others[:14]:  # Silver at 64%: DG1 back to Yes makes it Gold (67%)
        audited[cid] = "NO"
    submission = frozen_submission(audited, name="Villa Nueva")
    submission = submission.model_copy(update={"city": submission.city.model_copy(update={"language": language})})
    changes = [AuditedChange(criterion="DG1", from_response=Answer.YES, to_response=Answer.NO,
                             reason_code="requirement_not_met", explanation="The data inventory was not public."),
               AuditedChange(criterion="GM1", from_response=Answer.YES, to_response=Answer.NO,
                             reason_code="documents_not_submitted", explanation="No goals were sent.")]
    first = ReportRequest(submission_id=sid, submission=submission, changes=changes, score=scored(audited))
    after = {**audited, "DG1": "YES"}
    reissue = first.model_copy(update={"score": scored(after), "revision": ReportRevision(
        version=2, appeal_id="appeal-1", decided_at=DECIDED, previous_report_id="",
        previous_tier=first.score.tier, previous_percent=first.score.percent,
        changes=[AppealChange(criterion_id="DG1", outcome=AppealOutcome.OVERTURNED, before=Answer.NO,
                              after=Answer.YES, reason_code="requirement_not_met",
                              explanation="The inventory was public on the open data portal all along."),
                 AppealChange(criterion_id="GM1", outcome=AppealOutcome.UPHELD, before=Answer.NO, after=Answer.NO,
                              reason_code="documents_not_submitted",
                              explanation="The goals sent with the appeal were adopted after the cycle closed.")])})
    return first, reissue


async def test_a_reissue_is_version_2_and_the_first_stays_verifiable_as_superseded(reporting, tmp_path):
    runtime, app = reporting.runtimes["reporting"], reporting.apps["reporting"]
    renders, urls = app.state.renders, {**service_urls(), "reporting": "http://reporting.test"}
    sid = str(uuid.uuid4())
    first_req, reissue_req = requests(sid)
    assert (first_req.score.tier, reissue_req.score.tier) == ("silver", "gold")

    first = await issue_report(runtime.db, renders, first_req, urls=urls)
    async with runtime.db.transaction() as session:  # an operator put the city on the Honor Roll
        (await session.get(Report, first.id)).honor_roll = True
    with_previous = reissue_req.model_copy(update={"revision": reissue_req.revision.model_copy(
        update={"previous_report_id": first.id})})
    second = await issue_report(runtime.db, renders, with_previous, urls=urls)
    again = await issue_report(runtime.db, renders, with_previous, urls=urls)  # redelivered: no version 3
    assert (first.version, second.version, again.id) == (1, 2, second.id)
    assert second.id != first.id and second.verification_code != first.verification_code
    assert (second.replaces_id, second.appeal_id, second.honor_roll) == (first.id, "appeal-1", True)
    async with runtime.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)
                                    .where(Report.submission_id == sid)) == 2
        bodies = (await session.execute(select(outbox.c.body).where(outbox.c.subject == "wwc.reporting.report.ready")
                                        .order_by(outbox.c.seq))).scalars().all()
    assert [(b["payload"]["report_id"], b["payload"]["version"]) for b in bodies] == [(first.id, 1), (second.id, 2)]

    city = token(Role.CITY, sub="staff-1", city_id=first_req.city_id)
    async with reporting.client("reporting", city) as client:
        # The reissue in the city's language (Spanish) and in English: the appeal section,
        # what it replaces, each finding with its decision and explanation, tiers before and now.
        es = (await client.get(f"/api/v1/reports/{second.id}/html")).text
        assert "Qué cambió con la apelación" in es
        assert "Antes de la apelación: Plata, 64" in es and "Ahora: Oro, 67" in es
        assert "Sustituye a la versión 1, emitida el" in es
        assert "Revocada: la respuesta ahora es Sí." in es and "Confirmada: se mantiene la respuesta auditada No." in es
        assert "The inventory was public on the open data portal all along." in es
        en = (await client.get(f"/api/v1/reports/{second.id}/html", params={"lang": "en"})).text
        assert "What changed on appeal" in en and "It replaces version 1, issued" in en
        assert f"{first_req.score.percent}% of criteria met" in en and f"{reissue_req.score.percent}% of criteria met" in en
        assert "Changed on appeal" in en  # DG1's row in its practice area
        pt = (await client.get(f"/api/v1/reports/{second.id}/html", params={"lang": "pt"})).text
        assert "O que mudou com o recurso" in pt and "Revertida: a resposta agora é Sim." in pt
        pdf = (await client.get(f"/api/v1/reports/{second.id}/pdf", params={"lang": "en"})).content
        text = pdf_text(pdf, tmp_path)
        assert "What changed on appeal" in text and "Overturned: the response is now Yes." in text
        # Version 1 still opens, as it was (no appeal in it), and its page leads to version 2.
        old = (await client.get(f"/api/v1/reports/{first.id}/html", params={"lang": "en"})).text
        assert "What changed on appeal" not in old
        assert (await client.get(f"/api/v1/reports/by-submission/{sid}")).json()["id"] == second.id
        versions = (await client.get(f"/api/v1/reports/by-submission/{sid}/versions")).json()
        assert [(v["id"], v["version"], v["replaces_id"]) for v in versions] == [(first.id, 1, None),
                                                                               (second.id, 2, first.id)]
    async with reporting.client("reporting") as pages:
        pages.cookies.set("wwc_token", city)  # the report page, as the city's browser opens it
        page = await pages.get(f"/reports/{first.id}", params={"lang": "en"})
    assert page.status_code == 200 and "This is version 1 of the report" in page.text
    assert f"/reports/{second.id}" in page.text

    async with reporting.client("reporting") as anyone:
        old = (await anyone.get(f"/api/v1/verify/{first.verification_code}")).json()
        new = (await anyone.get(f"/api/v1/verify/{second.verification_code}")).json()
        assert (old["version"], old["current"], old["superseded_by_version"], old["superseded_by_code"]) == (
            1, False, 2, second.verification_code)
        assert (new["version"], new["current"], new["tier"]) == (2, True, reissue_req.score.tier)
        page = (await anyone.get("/verify", params={"code": first.verification_code})).text
        assert "Version 1 of this report is superseded" in page
        assert f'href="/verify?code={second.verification_code}"' in page
        page = (await anyone.get("/verify", params={"code": second.verification_code, "lang": "es"})).text
        assert "Este es el informe vigente: versión 2, reemitida tras una apelación el" in page

    # The roster: the city once, with the tier of its current report.
    async with runtime.db.sessionmaker() as session:
        listed = [e for e in await roster.roster(session) if e.city == "Villa Nueva"]
    assert [(e.tier, e.honor_roll) for e in listed] == [(reissue_req.score.tier, True)]


def test_the_reissued_pdf_has_its_section_in_every_language(tmp_path):
    """The PDF is laid out from the same view: no Typst warning, the section's words there."""
    from services.reporting.issuing import document_for, revision_input

    first_req, reissue_req = requests("s-pdf")
    previous = Report(id="r1", submission_id="s-pdf", city_id="c1", object_key="k", version=1, tier=first_req.score.tier,
                      created_at=datetime(2026, 11, 2, tzinfo=UTC))
    assert revision_input(reissue_req, previous).replaces_version == 1
    doc = document_for(reissue_req, code="WWC-ABCD-EFGH-JKLM", urls=service_urls(), at=DECIDED, previous=previous)
    from services.reporting.report import report_view
    from services.reporting.report.pdf import typeset

    for lang, words in (("en", "What changed on appeal"), ("es", "Qué cambió con la apelación"),
                        ("pt", "O que mudou com o recurso")):
        assert words in pdf_text(render_pdf(doc, lang), tmp_path, lang)
        assert typeset(report_view(doc, lang), doc.rendered_at)[1] == []  # no Typst warning


@pytest.mark.browser
async def test_the_city_reads_both_versions_in_the_browser(reporting, chromium):  # noqa: F811
    """In Chromium, as the city: version 2 with its appeal section (accessible, in Spanish
    and English), version 1 saying it is superseded and leading to version 2; the public
    verification of version 1 leads to version 2's."""
    from playwright.async_api import async_playwright, expect

    from devtools.harness import serve
    from tests.portal.conftest import LAUNCH_ARGS, check_page

    results = Path(__file__).resolve().parents[2] / "test-results" / "reporting"
    runtime, app = reporting.runtimes["reporting"], reporting.apps["reporting"]
    first_req, reissue_req = requests(str(uuid.uuid4()))
    urls = {**service_urls(), "reporting": "http://reporting.test"}
    first = await issue_report(runtime.db, app.state.renders, first_req, urls=urls)
    second = await issue_report(runtime.db, app.state.renders, reissue_req.model_copy(update={
        "revision": reissue_req.revision.model_copy(update={"previous_report_id": first.id})}), urls=urls)
    base_url, server, task = await serve(app)
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    try:
        context = await browser.new_context(base_url=base_url, locale="es-MX", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        await context.add_cookies([{"name": "wwc_token", "value": token(Role.CITY, sub="staff-1",
                                                                          city_id=first_req.city_id),
                                    "url": base_url, "httpOnly": True, "sameSite": "Lax"}])
        page = await context.new_page()
        await page.goto(f"/reports/{second.id}")
        appeal = page.get_by_role("region", name="Qué cambió con la apelación")
        await expect(appeal).to_contain_text("Revocada: la respuesta ahora es Sí.")
        await expect(appeal.get_by_role("row", name="GM1")).to_contain_text("Confirmada")
        await expect(page.get_by_role("note").first).to_contain_text("Versión 2 de este informe")
        await check_page(page, "report-version-2-es", results=results)
        await page.goto(f"/reports/{second.id}?lang=en")
        await expect(page.get_by_role("region", name="What changed on appeal")).to_contain_text(
            "Before the appeal: Silver, 64% of criteria met.")
        await check_page(page, "report-version-2-en", results=results)

        await page.goto(f"/reports/{first.id}?lang=en")
        await expect(page.get_by_role("region", name="What changed on appeal")).to_have_count(0)
        tools = page.get_by_role("navigation", name="Report tools")
        await expect(tools).to_contain_text("This is version 1 of the report.")
        await tools.get_by_role("link", name="Open version 2").click()
        await page.wait_for_url(f"**/reports/{second.id}?lang=en")
        await check_page(page, "report-version-2-from-1", results=results)

        await page.goto(f"/verify?code={first.verification_code}&lang=en")
        await expect(page.get_by_role("heading", name="Version 1 of this report is superseded")).to_be_visible()
        await check_page(page, "verify-superseded", results=results)
        await page.get_by_role("link", name="Check version 2, the current report").click()
        await expect(page.get_by_role("heading", name="This is a certified report")).to_be_visible()
        await expect(page.locator(".current-version")).to_contain_text(
            "This is the current report: version 2, reissued after an appeal on")
        await context.close()
    finally:
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task

"""Reporting's pages and their JSON twins against all five services, after a small cycle
run for real (tests/reporting/world.py): two certified cities, one scored but not
certified, one withdrawn. The report page for its city only, in each language, and its
PDF; verification that confirms a certified report's hash and answers every other code
alike; the roster of exactly the certified cities and the Honor Roll; the programme
dashboard's figures against what the events we caused say. Then the pages in Chromium."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from devtools.harness import Stack, serve
from services.intake.config import IntakeOptions
from services.reporting.models import HonorRollChange, Report
from services.reporting.programme_stats import percentile
from services.reporting.throttle import LookupThrottle
from shared.infra.throttle import Throttle
from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject
from shared.infra.auth import Role
from shared.infra.settings import SERVICES
from shared.infra.tables import outbox
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.portal.conftest import (  # noqa: F401 - the module's browser and NATS
    LAUNCH_ARGS,
    check_page as portal_check_page,
    chromium,
    module_infra,
    serialized_migrations,
)
from tests.reporting.helpers import pdf_text
from tests.reporting.world import CYCLE, PASSWORD, Plan, build_world, sha256

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CATALOG = load_catalog("wwc-2019")
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "reporting"
PLANS = {
    "springfield": Plan("Springfield", "IL", "US", 116_250, "en", yes=43,
                        changes={"DG1": ("IN_PROGRESS", "outdated_evidence"), "GM1": ("NO", "requirement_not_met")}),
    "campinas": Plan("Campinas", "SP", "BR", 1_139_000, "pt", yes=34,
                     changes={"DG1": ("IN_PROGRESS", "outdated_evidence")}),
    "riverton": Plan("Riverton", "OH", "US", 52_000, "es", yes=8),
    "lakeside": Plan("Lakeside", "WI", "US", 40_000, "en", yes=20, withdraws=True),
}


@pytest.fixture(scope="module")
async def world(module_infra, tmp_path_factory):  # noqa: F811
    stack = Stack(infra=module_infra, backend="sqlite", tmp=tmp_path_factory.mktemp("reporting-pages"),
                  services=SERVICES, build_kwargs={"intake": {"options": IntakeOptions(review_mode="auditor")}})
    with serialized_migrations():
        await stack.start()
    try:
        yield await build_world(stack, PLANS)
    finally:
        await stack.stop()


@pytest.fixture(scope="module")
async def site(world, chromium):  # noqa: F811
    from playwright.async_api import async_playwright

    base_url, server, task = await serve(world.stack.apps["reporting"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    contexts = []

    async def person(session_token: str | None = None, locale: str = "en-GB"):
        context = await browser.new_context(base_url=base_url, locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        if session_token:
            await context.add_cookies([{"name": "wwc_token", "value": session_token, "url": base_url,
                                        "httpOnly": True, "sameSite": "Lax"}])
        contexts.append(context)
        return await context.new_page()

    try:
        yield person
    finally:
        for context in contexts:
            await context.close()
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task


async def check_page(page, screenshot: str) -> None:
    """The portal's page check, with full and first-screen screenshots under test-results/reporting."""
    await portal_check_page(page, screenshot, results=RESULTS, top=True)


async def report_row(world, key: str) -> Report:
    async with world.stack.runtimes["reporting"].db.sessionmaker() as session:
        return await session.get(Report, world.cities[key].report_id)


# --- the report page --------------------------------------------------------------------------


async def test_a_city_reads_its_report_in_each_language_and_downloads_the_pdf(world):
    city = world.cities["springfield"]
    expected = city.score
    async with world.page_client(city.token) as pages:
        r = await pages.get(f"/reports/{city.report_id}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        html = r.text
        assert '<html lang="en">' in html and html.count("<main") == 1 and html.count("<h1") == 1
        assert f"achieved {expected.met} of 45 criteria" in html
        assert html.index('class="skip"') < html.index('class="report-tools"') < html.index("<h1")
        assert "script-src 'none'" in r.headers["content-security-policy"]
        for lang, words in (("es", f"ha cumplido {expected.met} de 45 criterios"),
                            ("pt", f"atingiu {expected.met} de 45 critérios")):
            r = await pages.get(f"/reports/{city.report_id}", params={"lang": lang})
            assert r.status_code == 200 and f'<html lang="{lang}">' in r.text and words in r.text

        issued = await pages.get(f"/reports/{city.report_id}/report.pdf")
        assert issued.status_code == 200 and issued.headers["content-type"] == "application/pdf"
        assert issued.headers["content-disposition"] == \
            'attachment; filename="springfield-certification-report-2026-en.pdf"'
        assert sha256(issued.content) == (await report_row(world, "springfield")).pdf_sha256
        others = {lang: await pages.get(f"/reports/{city.report_id}/report.pdf", params={"lang": lang})
                  for lang in ("es", "pt")}
    for lang, words in (("es", f"ha cumplido {expected.met} de 45 criterios"),
                        ("pt", f"atingiu {expected.met} de 45 critérios")):
        pdf = others[lang]
        assert pdf.status_code == 200 and pdf.headers["content-disposition"].endswith(f'-2026-{lang}.pdf"')
        assert words in pdf_text(pdf.content, world.stack.tmp, lang)


async def test_each_report_was_announced_and_its_numbers_are_the_scoring_apis(world):
    """Rendered once scoring completed: `report.ready` published, the figures those of the
    scoring API, the debrief offer a link to notify's booking page for the submission."""
    async with world.stack.runtimes["reporting"].db.sessionmaker() as session:
        ready = {e["payload"]["submission_id"]: e["payload"] for e in (await session.execute(
            select(outbox.c.body).where(outbox.c.subject == Subject.REPORT_READY))).scalars().all()}
    for key in ("springfield", "campinas", "riverton"):
        city = world.cities[key]
        report = await report_row(world, key)
        async with world.client("scoring", city.token) as scoring:
            r = await scoring.get(f"/api/v1/scores/{city.submission_id}")
        assert r.status_code == 200, r.text
        score = r.json()
        doc = await world.stack.apps["reporting"].state.renders.document(report)
        assert (doc.met, doc.total, doc.percent, doc.tier) == (score["met"], score["total"], score["percent"],
                                                               score["tier"]) == (
            city.score.met, city.score.total, city.score.percent, city.score.tier)
        assert {a.id: a.percent for a in doc.areas} == {a["id"]: a["percent"] for a in score["result"]["areas"]}
        assert doc.language == city.plan.language == report.language
        assert doc.debrief_url.endswith(f"/booking/{city.submission_id}")
        announced = ready[city.submission_id]
        assert (announced["report_id"], announced["tier"], announced["verification_code"]) == (
            report.id, report.tier, report.verification_code)
        assert announced["url"].endswith(f"/reports/{report.id}")
        assert (report.verification_code is None) == (report.tier is None)
    springfield = world.cities["springfield"]
    async with world.page_client(springfield.token) as pages:
        html = unescape((await pages.get(f"/reports/{springfield.report_id}")).text)
    assert f"/booking/{springfield.submission_id}" in html  # the debrief offer
    for criterion, (_, reason) in springfield.plan.changes.items():  # every audited change, as written
        assert f"The evidence sent for {criterion} does not show it in practice." in html and f"What would satisfy {criterion}." in html
        assert CATALOG.text(CATALOG.audit_reason(reason).text, "en") in html


async def test_the_city_reaches_its_report_from_its_portal_status_page(world):
    city = world.cities["campinas"]
    async with world.client("intake") as portal:
        portal.cookies.set("wwc_token", city.token)
        r = await portal.get("/portal/submission")
        assert r.status_code == 200, r.text
        links = re.findall(r'<a class="button" href="([^"]+)"', r.text)
        assert any(link.endswith(f"/reports/{city.report_id}?lang=en") for link in links), links
        # Read in Spanish, the portal opens the report in Spanish.
        r = await portal.get("/portal/submission?lang=es")
        links = re.findall(r'<a class="button" href="([^"]+)"', r.text)
        assert any(link.endswith(f"/reports/{city.report_id}?lang=es") for link in links), links


async def test_another_city_finds_no_report_and_strangers_are_sent_to_sign_in(world):
    springfield, riverton = world.cities["springfield"], world.cities["riverton"]
    async with world.page_client(riverton.token) as pages:
        for path in (f"/reports/{springfield.report_id}", f"/reports/{springfield.report_id}/report.pdf"):
            r = await pages.get(path)
            assert r.status_code == 404 and "Springfield" not in r.text
        listed = await pages.get("/reports/")
        assert "Riverton" in listed.text and "Springfield" not in listed.text
    async with world.page_client() as anonymous:
        r = await anonymous.get(f"/reports/{springfield.report_id}")
        assert r.status_code == 303 and r.headers["location"].startswith("/reports/sign-in?next=")
    for staff in (world.ana, world.operator):
        async with world.page_client(staff) as pages:
            assert (await pages.get(f"/reports/{springfield.report_id}")).status_code == 200


# --- verification -------------------------------------------------------------------------------


async def test_verification_confirms_a_certified_report_and_its_pdf(world):
    city = world.cities["springfield"]
    report = await report_row(world, "springfield")
    async with world.page_client(city.token) as pages:
        pdf = (await pages.get(f"/reports/{city.report_id}/report.pdf")).content
    async with world.client("reporting") as anyone:
        r = await anyone.get(f"/api/v1/verify/{report.verification_code.lower().replace('-', ' ')}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["city"], body["cycle"], body["tier"]) == ("Springfield", CYCLE, city.score.tier)
        assert body["pdf_sha256"] == sha256(pdf) and body["code"] == report.verification_code
        page = await anyone.get("/verify", params={"code": report.verification_code})
    assert page.status_code == 200 and sha256(pdf) in page.text and "This is a certified report" in page.text


async def test_verification_says_the_same_about_every_other_code(world):
    riverton = await report_row(world, "riverton")
    assert riverton.tier is None and riverton.verification_code is None
    others = ["WWC-ABCD-EFGH-JKLM",  # well formed, never issued
              "not a code <script>", "WWC-0000-0000-0000", "x" * 300,  # malformed
              riverton.id, riverton.submission_id, riverton.city_id]  # the applicant's own ids
    answers, pages = [], []
    async with world.client("reporting") as anyone:
        for code in others:
            r = await anyone.get(f"/api/v1/verify/{code}")
            body = r.json()
            answers.append((r.status_code, r.headers["content-type"],
                            {k: v for k, v in body.items() if k not in ("instance", "correlation_id")}))
            page = await anyone.get("/verify", params={"code": code})
            section = re.search(r'<section class="result.*?</section>', page.text, re.S)
            pages.append((page.status_code, section.group(0) if section else None))
    assert answers[0][0] == 404 and answers[0][2]["code"] == "no_certified_report"
    assert all(a == answers[0] for a in answers), answers
    assert pages[0][0] == 404 and "No certified report has this code" in pages[0][1]
    assert all(p == pages[0] for p in pages), pages


async def test_verification_is_throttled_per_client(world):
    app = world.stack.apps["reporting"]
    kept = app.state.verify_throttle
    app.state.verify_throttle = LookupThrottle(Throttle(), per_client="3/minute")
    try:
        async with world.client("reporting") as anyone:
            for _ in range(3):
                assert (await anyone.get("/api/v1/verify/WWC-ABCD-EFGH-JKLM")).status_code == 404
            code = (await report_row(world, "springfield")).verification_code
            r = await anyone.get(f"/api/v1/verify/{code}")  # a real code is refused too: nothing is read
            assert r.status_code == 429 and r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) > 0
            page = await anyone.get("/verify", params={"code": code})
            assert page.status_code == 429 and int(page.headers["retry-after"]) > 0
    finally:
        app.state.verify_throttle = kept


# --- the roster and the Honor Roll -----------------------------------------------------------


async def test_the_roster_lists_exactly_the_certified_cities(world):
    springfield, campinas = world.cities["springfield"], world.cities["campinas"]
    assert springfield.score.tier == "platinum" and campinas.score.tier == "gold"
    async with world.client("reporting") as anyone:
        listed = (await anyone.get("/api/v1/roster")).json()
        assert [(e["city"], e["tier"], e["cycle"], e["state"], e["country"]) for e in listed] == [
            ("Springfield", "platinum", CYCLE, "US-IL", "US"), ("Campinas", "gold", CYCLE, "BR-SP", "BR")]
        assert set(listed[0]) == {"city", "state", "country", "cycle", "tier", "honor_roll"}  # no score, no id
        gold = (await anyone.get("/api/v1/roster", params={"tier": "gold"})).json()
        assert [e["city"] for e in gold] == ["Campinas"]
        assert (await anyone.get("/api/v1/roster", params={"cycle": "2019"})).json() == []
        page = (await anyone.get("/roster")).text
    assert "Springfield" in page and "Campinas" in page
    assert "Illinois" in page and "São Paulo" in page and "BR-SP" not in page  # places by name, not code
    assert "Riverton" not in page and "Lakeside" not in page


async def test_operators_put_a_city_on_the_honor_roll_and_others_cannot(world):
    springfield, riverton = world.cities["springfield"], world.cities["riverton"]
    path = f"/api/v1/reports/{springfield.report_id}/honor-roll"
    for who in (springfield.token, world.ana):
        async with world.client("reporting", who) as c:
            assert (await c.put(path, json={"honor_roll": True})).status_code == 403
    async with world.client("reporting", world.operator) as operator:
        r = await operator.put(f"/api/v1/reports/{riverton.report_id}/honor-roll", json={"honor_roll": True})
        assert r.status_code == 409 and r.json()["code"] == "report_not_certified"
        r = await operator.put(path, json={"honor_roll": True})
        assert r.status_code == 200 and r.json()["honor_roll"] is True
        assert (await operator.put(path, json={"honor_roll": True})).status_code == 200  # idempotent
    async with world.client("reporting") as anyone:
        honored = {e["city"]: e["honor_roll"] for e in (await anyone.get("/api/v1/roster")).json()}
        assert honored == {"Springfield": True, "Campinas": False}
        assert "Honor Roll" in (await anyone.get("/roster")).text
    async with world.stack.runtimes["reporting"].db.sessionmaker() as session:
        changes = (await session.execute(HonorRollChange.__table__.select().where(
            HonorRollChange.report_id == springfield.report_id))).all()
    assert [(c.honor_roll, c.changed_by) for c in changes] == [(True, "operator-1")]  # one change, not two

    # The page's button is a form with CSRF: without the token nothing changes.
    async with world.page_client(world.operator) as pages:
        r = await pages.post(f"/reports/{springfield.report_id}/honor-roll", data={"honor_roll": "0"})
        assert r.status_code == 403
    async with world.page_client(springfield.token) as pages:
        pages.cookies.set("wwc_csrf", "c" * 43)
        r = await pages.post(f"/reports/{springfield.report_id}/honor-roll",
                             data={"honor_roll": "0", "csrf_token": "c" * 43})
        assert r.status_code == 403
    assert (await report_row(world, "springfield")).honor_roll is True


# --- the programme dashboard --------------------------------------------------------------------


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 6)


async def expected_stage_times(world) -> dict[str, tuple[int, float | None, float | None]]:
    """Finished stays per stage, computed here from intake's own record of the events."""
    submitted = {e["submission_id"]: datetime.fromisoformat(e["occurred_at"]) for e in await world.submitted_events()}
    changes: dict[str, list[tuple[str, datetime]]] = {sid: [("submitted", at)] for sid, at in submitted.items()}
    for e in await world.status_events():
        changes[e["submission_id"]].append((e["payload"]["status"], datetime.fromisoformat(e["occurred_at"])))
    spent: dict[str, list[float]] = {}
    for history in changes.values():
        history.sort(key=lambda h: h[1])
        per_stage: Counter = Counter()
        for (stage, since), (_, until) in zip(history, history[1:], strict=False):
            per_stage[stage] += (until - since).total_seconds()
        for stage, seconds in per_stage.items():
            spent.setdefault(stage, []).append(seconds)
    return {stage: (len(v), percentile(v, 0.5), percentile(v, 0.9)) for stage, v in spent.items()}


async def test_the_dashboard_figures_match_the_events_we_caused(world):
    scored = [world.cities[k] for k in ("springfield", "campinas", "riverton")]
    async with world.client("reporting", world.operator) as operator:
        async def settled():
            body = (await operator.get("/api/v1/programme", params={"cycle": CYCLE, "lang": "es"})).json()
            done = body["applicants"] and body["applicants"][0]["scored"] == 3 and not any(
                s["now"] for s in body["stages"]) and body["applicants"][0]["withdrawn"] == 1
            return body if done else None

        figures = await eventually(settled, timeout=60, interval=0.5)
    [applicants] = figures["applicants"]
    assert applicants == {"cycle": CYCLE, "cities": 4, "submissions": 4, "scored": 3, "certified": 2, "withdrawn": 1}
    tiers = {t["tier"]: t["count"] for t in figures["tiers"]}
    assert tiers == {"platinum": 1, "gold": 1, "silver": 0, None: 1}
    assert [t["name"] for t in figures["tiers"]][:3] == [CATALOG.text(CATALOG.tier(t).name, "es")
                                                          for t in ("platinum", "gold", "silver")]

    for area in figures["areas"]:
        values = [c.score.area(area["area"]).percent for c in scored]
        assert area["scores"] == 3
        assert area["average_percent"] == pytest.approx(round(sum(values) / 3 + 1e-9, 1))
        assert area["name"] == CATALOG.text(CATALOG.area(area["area"]).name, "es")
    assert [a["area"] for a in figures["areas"]] == [a.id for a in CATALOG.areas]

    assert [(c["criterion"], c["from_response"], c["to_response"], c["count"]) for c in figures["changes"]] == [
        ("DG1", "YES", "IN_PROGRESS", 2), ("GM1", "YES", "NO", 1)]
    reasons = {r["reason_code"]: r for r in figures["reasons"]}
    assert {k: r["count"] for k, r in reasons.items()} == {"outdated_evidence": 2, "requirement_not_met": 1}
    assert reasons["outdated_evidence"]["text"] == CATALOG.text(CATALOG.audit_reason("outdated_evidence").text, "es")

    expected = await expected_stage_times(world)
    got = {s["stage"]: (s["stays"], hours(s["median_seconds"]), hours(s["p90_seconds"])) for s in figures["stages"]}
    for stage, (stays, median, p90) in expected.items():
        assert got[stage] == (stays, hours(median), hours(p90)), stage
    assert got["submitted"][0] == 4 and got["debrief"][0] == 3

    async with world.client("reporting", world.cities["springfield"].token) as city:
        assert (await city.get("/api/v1/programme")).status_code == 403
    async with world.client("reporting") as anyone:
        assert (await anyone.get("/api/v1/programme")).status_code == 401
    async with world.page_client(world.cities["springfield"].token) as pages:
        r = await pages.get("/programme")
        assert r.status_code == 303 and "/programme/sign-in" in r.headers["location"]


# --- in Chromium --------------------------------------------------------------------------------


@pytest.mark.browser
async def test_the_report_page_in_the_browser(world, site):
    city = world.cities["campinas"]
    page = await site()
    # Signing in on the report pages (intake checks the password) leads back to the report.
    await page.goto(f"/reports/{city.report_id}")
    await page.get_by_label("Email address").fill(city.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(rf".*/reports/{city.report_id}$"))
    # Issued in the city's language (Portuguese), with the toolbar in it too.
    await expect(page.locator("html")).to_have_attribute("lang", "pt")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Campinas")
    tools = page.get_by_role("navigation", name="Ferramentas do relatório")
    await expect(tools.get_by_role("link", name="Baixar o PDF (Português)")).to_be_visible()
    await check_page(page, "reporting-report-pt")
    await tools.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Campinas")
    await check_page(page, "reporting-report-en")
    await page.get_by_role("navigation", name="Report tools").get_by_role("link", name="Español").click()
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await check_page(page, "reporting-report-es")
    # The skip link is the first stop for the keyboard; the toolbar comes next.
    await page.keyboard.press("Tab")
    await expect(page.locator("a.skip")).to_be_focused()
    # On paper: the report alone.
    await page.emulate_media(media="print")
    await expect(page.locator(".report-tools")).to_be_hidden()
    await page.emulate_media(media="screen")
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Descargar el PDF (Español)").click()
    assert (await download.value).suggested_filename == "campinas-certification-report-2026-es.pdf"


@pytest.mark.browser
async def test_an_operator_uses_the_honor_roll_button(world, site):
    city = world.cities["campinas"]
    page = await site(world.operator)
    await page.goto(f"/reports/{city.report_id}?lang=en")
    await page.get_by_role("button", name="Put on the Honor Roll").click()
    await expect(page.get_by_role("status")).to_have_text("The city is now on the Honor Roll.")
    await expect(page.get_by_role("button", name="Take off the Honor Roll")).to_be_visible()
    await check_page(page, "reporting-report-operator")
    await page.goto("/roster")
    row = page.get_by_role("row", name=re.compile("Campinas"))
    await expect(row).to_contain_text("Honor Roll")
    await check_page(page, "reporting-roster-en")
    await page.get_by_label("Tier").select_option("platinum")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("row", name=re.compile("Campinas"))).to_have_count(0)
    await expect(page.get_by_role("row", name=re.compile("Springfield"))).to_have_count(1)


@pytest.mark.browser
async def test_verify_with_the_keyboard_in_spanish(world, site):
    code = (await report_row(world, "springfield")).verification_code
    page = await site(locale="es-ES")
    await page.goto("/verify")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Verificar un Informe de Certificación")
    await check_page(page, "reporting-verify-form-es")
    await page.get_by_label("Código de verificación").focus()
    await page.keyboard.type(code.lower())
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Este es un informe certificado")).to_be_visible()
    await expect(page.locator(".facts")).to_contain_text("Springfield")
    await check_page(page, "reporting-verify-certified-es")
    await page.get_by_label("Código de verificación").fill("WWC-ABCD-EFGH-JKLM")
    await page.get_by_label("Código de verificación").press("Enter")
    await expect(page.get_by_role("heading", name="Ningún informe certificado tiene este código")).to_be_visible()
    await check_page(page, "reporting-verify-none-es")
    await page.get_by_label("Código de verificación").fill("")
    await page.get_by_role("button", name="Comprobar el código").click()
    await expect(page.get_by_role("alert")).to_contain_text("Escriba el código de verificación")
    await check_page(page, "reporting-verify-empty-es")


@pytest.mark.browser
async def test_the_dashboard_in_the_browser(world, site):
    page = await site(token(Role.AUDITOR, sub="auditor-dashboard"), locale="pt-BR")
    await page.goto("/programme")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Painel do programa")
    await expect(page.locator("#applicants-2026")).to_contain_text("4")
    reason = CATALOG.text(CATALOG.audit_reason("outdated_evidence").text, "pt")
    await expect(page.locator("#reasons")).to_contain_text(reason)
    await expect(page.get_by_role("img", name=re.compile("Pontuação média por área de prática"))).to_be_visible()
    await check_page(page, "reporting-programme-pt")
    await page.get_by_label("Ciclo", exact=True).select_option(CYCLE)
    await page.get_by_role("button", name="Mostrar").click()
    await expect(page).to_have_url(re.compile(rf"cycle={CYCLE}"))
    await page.goto("/reports/?lang=en")
    await expect(page.get_by_role("row", name=re.compile("Riverton"))).to_contain_text("Not certified")
    await check_page(page, "reporting-reports-list-en")

"""Debrief slots inside the auditor console, in a real headless Chromium with audit, notify
and reporting each served on its own port (their public URLs, as in `make run`): the
auditor goes from the queue to "Debrief calls" and publishes a slot (in Spanish); the city
books it (in Portuguese) and is not offered "Decline" beside "Cancel"; the auditor (in
English) sees the city's name on the slot, follows its link to the case, which says who
booked the call and when, comes back through the same navigation and opens the report."""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from certification.activities import DebriefRequest, ReportRequest, ReviewRequest, ScoreOutcome
from devtools import devstack
from devtools.harness import Stack, serve
from services.audit.activities import AuditActivities
from services.audit.models import DebriefCall
from services.notify.config import NotifyOptions
from services.notify.debriefs import service as debriefs
from services.reporting.issuing import issue_report
from shared.catalog import load_catalog
from shared.infra.auth import Role
from shared.infra.settings import service_urls
from shared.scoring.benchmarks import BenchmarkBook, publish
from shared.scoring.engine import score
from shared.scoring.simulator import path_for
from tests.audit.conftest import submission
from tests.infra.test_consumer import eventually
from tests.portal.conftest import LAUNCH_ARGS, check_page, chromium, module_infra, serialized_migrations  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct-horse-battery"
SERVED = ("audit", "notify", "reporting")


@pytest.fixture(scope="module")
async def site(chromium, module_infra, tmp_path_factory):  # noqa: F811
    from playwright.async_api import async_playwright

    # Each console links to the others at their public URLs: the ports are chosen first.
    ports = {name: devstack.free_port() for name in SERVED}
    saved = {name: os.environ.get(f"WWC_{name.upper()}_PUBLIC_URL") for name in SERVED}
    for name, port in ports.items():
        os.environ[f"WWC_{name.upper()}_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    service_urls.cache_clear()
    stack = Stack(infra=module_infra, backend="sqlite", tmp=tmp_path_factory.mktemp("auditor-debriefs"),
                  services=("intake", *SERVED), build_kwargs={"notify": {"options": NotifyOptions(
                      min_notice_minutes=0, poll_seconds=0.3)}})
    with serialized_migrations():
        await stack.start()
    servers = [await serve(stack.apps[name], port=ports[name]) for name in SERVED]
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    try:
        yield stack, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}, browser
    finally:
        await browser.close()
        await playwright.stop()
        for _, server, task in servers:
            server.should_exit = True
            await task
        await stack.stop()
        for name, value in saved.items():
            os.environ.pop(f"WWC_{name.upper()}_PUBLIC_URL", None)
            if value is not None:
                os.environ[f"WWC_{name.upper()}_PUBLIC_URL"] = value
        service_urls.cache_clear()


async def sign_in(browser, base_url: str, console: str, email: str, locale: str, lang: str):
    context = await browser.new_context(base_url=base_url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = await context.new_page()
    await page.goto(f"/{console}/sign-in?lang={lang}")
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form[action$='sign-in'] button[type=submit]").click()
    return context, page


async def a_report(stack: Stack, submission_id: str, frozen) -> str:
    """The city's report, issued by reporting as the workflow has it issued; its URL."""
    catalog = load_catalog(frozen.catalog_version)
    answers = {cid: r.response for cid, r in frozen.responses.items()}
    result = score(catalog, answers)
    benchmarks = publish(BenchmarkBook(), frozen.cycle)
    req = ReportRequest(submission_id=submission_id, submission=frozen, score=ScoreOutcome(
        met=result.met, total=result.total, percent=result.percent, tier=result.tier, result=result,
        benchmarks=benchmarks, path=path_for(catalog, result, benchmarks, None)))
    report = await issue_report(stack.runtimes["reporting"].db, stack.apps["reporting"].state.renders, req,
                                urls=service_urls())
    return f"{service_urls()['reporting']}/reports/{report.id}"


async def test_the_auditor_follows_a_booked_slot_to_the_city_s_case_and_report(site):
    stack, urls, browser = site
    tag = uuid.uuid4().hex[:6]
    city_name, city_email, auditor_email = f"Campinas {tag}", f"lia-{tag}@campinas.gov.br", f"ana-{tag}@wwc.org"
    body = await stack.register_city({
        "name": city_name, "state": "SP", "country": "BR", "population": 1_139_000, "contact_name": "Lia Souza",
        "contact_email": city_email, "password": PASSWORD, "language": "pt"})
    city_id = body["city"]["id"]
    await stack.create_staff(auditor_email, "Ana Ramos", Role.AUDITOR, password=PASSWORD)
    submission_id = str(uuid.uuid4())
    frozen = submission(city_id=city_id, name=city_name, state="BR-SP", country="BR")
    await AuditActivities(stack.runtimes["audit"], stack.apps["audit"].state.audit_options).open_review(
        ReviewRequest(submission_id=submission_id, correlation_id=submission_id, submission=frozen))
    report_url = await a_report(stack, submission_id, frozen)
    notify = stack.runtimes["notify"]
    async with notify.db.transaction() as session:
        await debriefs.offer(session, stack.apps["notify"].state.debrief_config, DebriefRequest(
            submission_id=submission_id, city_id=city_id, city_name=city_name, contact_email=city_email,
            language="pt", report_url=report_url))

    # The auditor, in Spanish, goes from the queue to the debrief calls and publishes a slot.
    auditor_ctx, auditor = await sign_in(browser, urls["audit"], "audit", auditor_email, "es-ES", "es")
    await auditor.wait_for_url(re.compile(r".*/audit/queue.*"))
    await auditor.get_by_role("navigation", name="Principal").get_by_role("link", name="Llamadas de devolución").click()
    await auditor.get_by_role("heading", name="Horarios de devolución", level=1).wait_for()
    assert auditor.url.startswith(f"{urls['notify']}/slots/")
    await check_page(auditor, "auditor-debriefs-slots-es")
    await auditor.get_by_label("Fecha").fill((datetime.now(UTC) + timedelta(days=4)).date().isoformat())
    await auditor.get_by_label("Hora de inicio").fill("10:00")
    await auditor.get_by_label("Zona horaria").fill("Chicago")  # the picker takes a place, typed
    await auditor.get_by_label("Enlace de la llamada").fill(f"https://meet.example.org/{tag}")
    await auditor.get_by_role("button", name="Publicar el horario").click()
    await auditor.get_by_text("El horario quedó publicado.").wait_for()

    # The city, in Portuguese, books it; once booked it may cancel, and is not offered "Recusar".
    city_ctx, city = await sign_in(browser, urls["notify"], "booking", city_email, "pt-BR", "pt")
    await city.goto(f"/booking/{submission_id}")
    assert await city.get_by_role("button", name=re.compile("Recusar")).count() == 1  # open: it may decline
    await city.get_by_role("radio").first.check()
    await city.get_by_role("button", name="Agendar este horário").click()
    await city.get_by_text("Sua chamada está agendada.").wait_for()
    await city.get_by_role("button", name="Cancelar a chamada").wait_for()
    assert await city.get_by_role("button", name=re.compile("Recusar")).count() == 0
    await check_page(city, "auditor-debriefs-booked-pt")

    # The auditor, in English, sees who booked the slot, with links to the case and the report.
    await auditor.goto(f"{urls['notify']}/slots/?lang=en")
    row = auditor.get_by_role("row").filter(has_text=city_name)
    await row.get_by_text("Booked").wait_for()
    assert await auditor.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").count() == 1
    await check_page(auditor, "auditor-debriefs-slots-booked-en")
    # The booking's own page links to them too.
    await row.get_by_role("link", name="See the booking").click()
    await auditor.get_by_role("link", name=f"Report of {city_name}").wait_for()
    assert await auditor.get_by_role("link", name=f"Case of {city_name}").get_attribute("href") == \
        f"{urls['audit']}/audit/cases/{submission_id}"
    await check_page(auditor, "auditor-debriefs-booking-en")
    await auditor.go_back()

    async def audit_knows_the_call():
        async with stack.runtimes["audit"].db.sessionmaker() as session:
            call = await session.scalar(select(DebriefCall).where(DebriefCall.submission_id == submission_id))
        return call is not None and call.state == "booked"

    await eventually(audit_knows_the_call, timeout=20)
    await row.get_by_role("link", name=f"Case of {city_name}").click()
    await auditor.get_by_role("heading", name=re.compile(city_name), level=1).wait_for()
    assert auditor.url == f"{urls['audit']}/audit/cases/{submission_id}"
    call = auditor.locator("#debrief-call")  # when: in the zone the auditor published the slot in
    await call.get_by_text(re.compile(r"Lia Souza booked the debrief call with Ana Ramos for .+2026, 10:00\W*AM \(Chicago\)\.")).wait_for()
    await check_page(auditor, "auditor-debriefs-case-en")
    await auditor.goto(f"{urls['audit']}/audit/cases/{submission_id}?lang=pt")
    await call.get_by_text(re.compile(r"Lia Souza agendou a chamada de devolutiva com Ana Ramos para .+2026, 10:00 \(Chicago\)\.")).wait_for()
    await check_page(auditor, "auditor-debriefs-case-pt")
    await auditor.goto(f"{urls['audit']}/audit/cases/{submission_id}?lang=en")

    # Back through the same navigation, then to the city's report.
    await auditor.get_by_role("navigation", name="Main").get_by_role("link", name="Debrief calls").click()
    await auditor.get_by_role("heading", name="Debrief slots", level=1).wait_for()
    await auditor.get_by_role("row").filter(has_text=city_name).get_by_role("link", name=f"Report of {city_name}").click()
    await auditor.wait_for_url(f"{report_url}*")
    await auditor.get_by_role("heading", level=1).filter(has_text=city_name).wait_for()
    await auditor_ctx.close()
    await city_ctx.close()

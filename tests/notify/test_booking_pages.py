"""The booking pages in a real headless Chromium: an auditor (in Spanish) publishes slots;
a city's staff member (in Portuguese, then English) books, moves and cancels the call;
the auditor records its outcome. Accessibility checks and screenshots on each page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from devtools.harness import Stack, serve
from services.intake import accounts
from services.notify.debriefs import service as debriefs
from services.notify.config import NotifyOptions
from services.notify.models import Booking
from certification.activities import DebriefRequest
from shared.infra.auth import Role
from tests.infra.test_consumer import eventually
from tests.portal.conftest import LAUNCH_ARGS, check_page, chromium, module_infra, serialized_migrations  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
async def site(chromium, module_infra, tmp_path_factory):  # noqa: F811
    from playwright.async_api import async_playwright

    stack = Stack(infra=module_infra, backend="sqlite", tmp=tmp_path_factory.mktemp("booking"),
                  services=("intake", "notify"), build_kwargs={"notify": {"options": NotifyOptions(
                      min_notice_minutes=0, poll_seconds=0.3)}})
    with serialized_migrations():
        await stack.start()
    base_url, server, task = await serve(stack.apps["notify"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    try:
        yield stack, base_url, browser
    finally:
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task
        await stack.stop()


async def sign_in(browser, base_url: str, console: str, email: str, locale: str, lang: str):
    context = await browser.new_context(base_url=base_url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"/{console}/sign-in?lang={lang}")
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form[action$='sign-in'] button[type=submit]").click()
    return context, page


async def test_a_city_books_moves_and_cancels_and_the_auditor_records_the_outcome(site):
    stack, base_url, browser = site
    tag = uuid.uuid4().hex[:6]
    city_email, auditor_email = f"lia-{tag}@campinas.gov.br", f"ana-{tag}@wwc.org"
    body = await stack.register_city({
        "name": f"Campinas {tag}", "state": "SP", "country": "BR", "population": 1_139_000, "contact_name": "Lia",
        "contact_email": city_email, "password": PASSWORD, "language": "pt"})
    city_id = body["city"]["id"]
    async with stack.runtimes["intake"].db.transaction() as session:
        await accounts.create_staff_user(session, email=auditor_email, name="Ana Auditora", password=PASSWORD,
                                         role=Role.AUDITOR)
    notify = stack.runtimes["notify"]
    submission_id = f"sub-{tag}"
    async with notify.db.transaction() as session:
        await debriefs.offer(session, stack.apps["notify"].state.debrief_config, DebriefRequest(
            submission_id=submission_id, city_id=city_id, city_name=f"Campinas {tag}", contact_email=city_email))

    # The auditor, in Spanish, publishes two slots in New York.
    auditor_ctx, auditor = await sign_in(browser, base_url, "slots", auditor_email, "es-ES", "es")
    await auditor.get_by_role("heading", name="Horarios de devolución", level=1).wait_for()
    await check_page(auditor, "notify-slots-es")
    day = (datetime.now(UTC) + timedelta(days=4)).date().isoformat()
    for at in ("09:00", "15:30"):
        await auditor.get_by_label("Fecha").fill(day)
        await auditor.get_by_label("Hora de inicio").fill(at)
        await auditor.get_by_label("Zona horaria").fill("Nueva York")  # the picker takes a place, typed
        await auditor.get_by_label("Enlace de la llamada").fill(f"https://meet.example.org/{tag}")
        await auditor.get_by_role("button", name="Publicar el horario").click()
        await auditor.get_by_text("El horario quedó publicado.").wait_for()
    # An overlapping slot is refused, with the field named.
    await auditor.get_by_label("Fecha").fill(day)
    await auditor.get_by_label("Hora de inicio").fill("09:15")
    await auditor.get_by_label("Zona horaria").fill("Nueva York")  # the picker takes a place, typed
    await auditor.get_by_label("Enlace de la llamada").fill(f"https://meet.example.org/{tag}")
    await auditor.get_by_role("button", name="Publicar el horario").click()
    await auditor.locator("#error-summary").get_by_text("Ya tiene un horario a esa hora").wait_for()
    await check_page(auditor, "notify-slots-overlap-es")

    # The city's staff member, in Portuguese, books the first time (shown in Sao Paulo time).
    city_ctx, city = await sign_in(browser, base_url, "booking", city_email, "pt-BR", "pt")
    await city.goto(f"/booking/{submission_id}")
    await city.get_by_role("heading", name="Chamada de devolutiva", level=1).wait_for()
    assert await city.get_by_text("America/Sao_Paulo").count() >= 1
    await check_page(city, "notify-booking-pt")
    await city.get_by_role("button", name="Agendar este horário").click()  # nothing chosen yet
    await city.locator("#error-summary").get_by_text("Escolha um horário").wait_for()
    options = city.get_by_role("radio")
    assert await options.count() == 2
    await options.first.check()
    await city.get_by_role("button", name="Agendar este horário").click()
    await city.get_by_text("Sua chamada está agendada.").wait_for()
    await check_page(city, "notify-booked-pt")
    # It moves the call to the other time, then cancels it.
    await city.get_by_role("radio").first.check()
    await city.get_by_role("button", name="Remarcar a chamada").click()
    await city.get_by_text("A chamada foi remarcada.").wait_for()
    await city.get_by_role("button", name="Cancelar a chamada").click()
    await city.get_by_text("A chamada foi cancelada.").wait_for()

    # In English now, the city books again.
    await city.goto(f"/booking/{submission_id}?lang=en")
    await city.get_by_role("radio").first.check()
    await city.get_by_role("button", name="Book this time").click()
    await city.get_by_text("Your call is booked.").wait_for()
    await check_page(city, "notify-booked-en")
    await city.goto("/booking/preferences")
    await city.get_by_label("a debrief call is near (reminders)").uncheck()
    await city.get_by_role("button", name="Save preferences").click()
    await city.get_by_text("Your mail preferences are saved.").wait_for()
    assert not await city.get_by_label("a debrief call is near (reminders)").is_checked()
    await check_page(city, "notify-preferences-en")

    # The call's time comes; the auditor records how it went.
    async with notify.db.transaction() as session:
        await session.execute(update(Booking).where(Booking.submission_id == submission_id,
                                                    Booking.state == "booked")
                              .values(starts_at=datetime.now(UTC) - timedelta(minutes=5)))
    await auditor.goto("/slots/")
    await auditor.get_by_role("link", name="Ver la reserva").click()
    await auditor.get_by_role("heading", name=re.compile("Llamada de devolución: Campinas")).wait_for()
    await check_page(auditor, "notify-debrief-es")
    await auditor.get_by_label("La llamada se realizó").check()
    await auditor.get_by_label("Notas").fill("Repasamos el camino al nivel Platino.")
    await auditor.get_by_role("button", name="Registrar el resultado").click()
    await auditor.get_by_text("El resultado quedó registrado").wait_for()
    await check_page(auditor, "notify-outcome-es")

    await city.goto(f"/booking/{submission_id}?lang=en")
    await city.get_by_text("The debrief call took place. Thank you.").wait_for()

    async def invites_sent():
        from services.notify.models import Mail
        from sqlalchemy import select

        async with notify.db.sessionmaker() as session:
            kinds = set((await session.scalars(select(Mail.kind).where(Mail.submission_id == submission_id))).all())
        return kinds >= {"debrief_booked", "debrief_rescheduled", "debrief_cancelled", "auditor_debrief_booked"}

    await eventually(invites_sent, timeout=15)
    await auditor_ctx.close()
    await city_ctx.close()

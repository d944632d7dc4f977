"""An operator corrects a city's facts in the operator console (Chromium): the
page asks intake with the operator's own token, so intake's rules, record and events apply;
a refusal is said beside its field, in the page's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from devtools.harness import Stack, serve
from shared.infra.auth import Role
from tests.intake.helpers import register
from tests.portal.conftest import LAUNCH_ARGS, check_page, chromium  # noqa: F401 - the browser

pytestmark = pytest.mark.browser
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "operator"


async def test_an_operator_corrects_the_population_with_a_reason(infra, tmp_path, chromium):  # noqa: F811
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("intake", "reporting"))
    await stack.start()
    base_url, server, task = await serve(stack.apps["reporting"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    try:
        _, city = await register(stack, "Riverton", population=45_000)
        operator = await stack.create_staff("olga@wwc.org", "Olga Operator", Role.OPERATOR)
        context = await browser.new_context(base_url=base_url, locale="en-GB")
        context.set_default_timeout(15_000)
        await context.add_cookies([{"name": "wwc_token", "value": operator, "url": base_url, "httpOnly": True,
                                    "sameSite": "Lax"}])
        page = await context.new_page()
        await page.goto(f"/operator/cities/{city['id']}/facts")
        await expect(page.get_by_role("heading", name="The facts of Riverton", level=1)).to_be_visible()
        population = page.get_by_label("Population")
        await expect(population).to_have_value("45,000")

        await population.fill("5,000")
        await page.get_by_role("button", name="Correct the facts").click()
        await expect(page.locator("#reason-error")).to_contain_text("Say why the facts change")
        await page.get_by_label("Why the facts change").fill("The city sent its 2025 census")
        await page.get_by_role("button", name="Correct the facts").click()
        await expect(page.locator("#population-error")).to_contain_text(
            "at least 30,000 residents; Riverton would have 5,000")
        await check_page(page, "city-facts-refused", results=RESULTS)

        await population.fill("31,000")
        await page.get_by_role("button", name="Correct the facts").click()
        await expect(page.get_by_role("status")).to_contain_text("The city's facts are corrected")
        await expect(population).to_have_value("31,000")
        await expect(page.locator(".fact-history li")).to_contain_text(
            "population 45,000 → 31,000, by Olga Operator (The city sent its 2025 census)")
        await check_page(page, "city-facts-corrected", results=RESULTS)
        await page.goto(f"/operator/cities/{city['id']}/facts?lang=pt")
        await expect(page.locator(".fact-history li")).to_contain_text("população 45.000 → 31.000, por Olga Operator")
        await check_page(page, "city-facts-pt", results=RESULTS)
        async with stack.client("intake", operator) as intake:
            assert (await intake.get(f"/api/v1/cities/{city['id']}")).json()["population"] == 31_000
    finally:
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task
        await stack.stop()

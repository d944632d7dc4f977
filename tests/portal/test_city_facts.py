"""The city corrects its facts on its settings page (Chromium, no scripts), with a reason,
against the programme's rules; once its assessment is submitted the page says who can."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from shared.catalog.loader import load_catalog
from tests.portal.conftest import CYCLE, check_page

pytestmark = pytest.mark.browser


async def _submit(portal, token: str) -> None:
    """The whole assessment answered in one import (NO everywhere needs no evidence), submitted."""
    body = {c.id: {"response": "NO", "narrative": "not yet"} for c in load_catalog("wwc-2019").criteria}
    async with portal.api(token) as client:
        r = await client.put(f"/api/v1/assessments/{CYCLE}/responses", json={"responses": body})
        assert r.status_code == 200, r.text
        r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
        assert r.status_code == 201, r.text


async def test_the_city_corrects_its_population_with_a_reason_until_it_submits(portal):
    city = await portal.city("Factville", population=45_000)
    page = await portal.page(city["token"])
    await page.goto("/portal/city")
    population = page.get_by_label("Population")
    await expect(population).to_have_value("45,000")

    # Under the programme's minimum, and without a reason: both said beside their fields.
    await population.fill("5,000")
    await page.get_by_role("button", name="Correct the facts").click()
    await expect(page.locator("#reason-error")).to_contain_text("Say why the facts change")
    await page.get_by_label("Why the facts change").fill("The 2025 census")
    await page.get_by_role("button", name="Correct the facts").click()
    await expect(page.locator("#population-error")).to_contain_text(
        "The programme certifies cities of at least 30,000 residents; Factville has 5,000.")
    await expect(page.locator("#error-summary")).to_be_visible()
    await check_page(page, "city-facts-refused")

    await population.fill("31,000")
    await page.get_by_label("Why the facts change").fill("The 2025 census counted 31,000 residents")
    await page.get_by_role("button", name="Correct the facts").click()
    await page.wait_for_url("**/portal/city?done=facts_saved")
    await expect(population).to_have_value("31,000")
    history = page.locator(".fact-history li")
    await expect(history).to_have_count(1)
    await expect(history).to_contain_text(
        "population 45,000 → 31,000, by Factville Data Office (The 2025 census counted 31,000 residents)")
    await check_page(page, "city-facts-corrected")

    # In Spanish, the same record in Spanish words and numbers.
    await page.goto("/portal/city?lang=es")
    await expect(page.locator(".fact-history li")).to_contain_text("población 45.000 → 31.000, por Factville Data Office")
    await check_page(page, "city-facts-es")

    # Submitted: the facts are shown, not editable, and the page says who can correct them.
    await _submit(portal, city["token"])
    await page.goto("/portal/city?lang=en")
    await expect(page.get_by_role("button", name="Correct the facts")).to_have_count(0)
    await expect(page.locator("#facts-locked")).to_contain_text("its operators can correct it")
    await expect(page.locator("dl.facts")).to_contain_text("31,000")
    await check_page(page, "city-facts-locked")

"""Places, not spellings, in the portal (Chromium, no scripts: the portal allows none): the
state or province is chosen from ISO 3166-2's list of the city's country, on registration
and on the city's settings, and shown by its name."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.portal.conftest import PASSWORD, check_page, register_in_browser

pytestmark = pytest.mark.browser


async def options(select) -> list[tuple[str, str]]:
    found = await select.evaluate("s => [...s.options].map(o => [o.value, o.textContent.trim()])")
    return [tuple(item) for item in found]


async def test_the_state_is_chosen_from_the_countrys_list(portal):
    page = await portal.page()
    await page.goto("/portal/register")
    state = page.get_by_label("State or province")
    # Before a country is chosen: every programme country's list, grouped by country.
    await expect(state.locator("optgroup[label='Canada'] option", has_text="Ontario")).to_have_count(1)

    # Choosing the country (no script needed) lists its own provinces only.
    await page.get_by_label("City name").fill("Toronto")
    await page.get_by_label("Country").select_option("CA")
    await page.get_by_role("button", name="Show its states and provinces").click()
    await expect(page.get_by_label("City name")).to_have_value("Toronto")
    listed = await options(state)
    assert listed[0][0] == "" and len(listed) == 14  # "Choose..." and Canada's 13
    assert ("CA-ON", "Ontario") in listed and all(code.startswith("CA-") for code, _ in listed[1:])
    await check_page(page, "register-states")

    await register_in_browser(portal, page, name="Toronto", state="Ontario", population="2,794,356",
                              contact="Olivia Chow", email="data@toronto.ca", password=PASSWORD, country="CA")
    await page.wait_for_url("**/portal/snapshot?done=registered")
    await page.goto("/portal/home")
    await expect(page.locator("dl.facts")).to_contain_text("Toronto, Ontario")

    # The city's settings: its own country's list, its province chosen; moving is a choice.
    await page.goto("/portal/city")
    state = page.get_by_label("State or province")
    await expect(state).to_have_value("CA-ON")
    assert [code for code, _ in await options(state)][1:] == [
        code for code, _ in listed[1:]]
    await check_page(page, "city-settings-state")
    await state.select_option(label="Quebec" if ("CA-QC", "Quebec") in listed else "Québec")
    await page.get_by_label("Why the facts change").fill("Registered in the wrong province")
    await page.get_by_role("button", name="Correct the facts").click()
    await page.wait_for_url("**/portal/city?done=facts_saved")
    await page.goto("/portal/home")
    await expect(page.locator("dl.facts")).to_contain_text("Toronto, Qu")
    # In Spanish, names from ISO 3166-2's translations.
    await page.goto("/portal/city?lang=es")
    await expect(page.get_by_label("Estado o provincia").locator("option", has_text="Columbia Británica")) \
        .to_have_count(1)

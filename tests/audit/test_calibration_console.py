"""The calibration page in Chromium (issue 21.3): empty, it says what it will show and why
there is nothing yet; after two scripted double reviews it shows the same figures as the
JSON, the flagged criterion highlighted, the chart and the CSV export — in English and
Spanish, each page passing the accessibility and readable-text check."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from devtools.harness import serve
from shared.infra.auth import Role
from tests.audit.browser import LAUNCH_ARGS, check_page
from tests.audit.test_calibration_api import SCRIPT, double_review

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_calibration_page_shows_the_measured_agreement(doubled, chromium):
    audit = doubled
    for who in ("ana", "ben", "cleo"):
        await audit.auditor(who, f"{who.title()} Auditor")
    olga = await audit.auditor("olga", "Olga Manager", role=Role.OPERATOR)
    url, server, task = await serve(audit.stack.apps["audit"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)

    async def person(locale: str):
        context = await browser.new_context(base_url=url, locale=locale, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(20_000)
        await context.add_cookies([{"name": "wwc_token", "value": olga, "url": url, "httpOnly": True,
                                    "sameSite": "Lax"}])
        return await context.new_page()

    try:
        page = await person("en-GB")
        await page.goto("/audit/queue")
        await page.get_by_role("link", name="Calibration").click()
        await expect(page.get_by_role("heading", name="Reviewer consistency")).to_be_visible()
        await expect(page.locator("#calibration-empty")).to_contain_text("nothing to compare yet")
        await expect(page.locator("#appeals-note")).to_contain_text("the independent appeal decision overturned")
        await check_page(page, "calibration-empty")

        for holder, second, mine, theirs in SCRIPT[:2]:
            await double_review(audit, holder, second, mine, theirs)
        async with audit.client("cleo") as cleo:
            body = (await cleo.get("/api/v1/calibration")).json()
        rows = {(r["scope"], r["key"]): r for r in body["rows"]}
        await page.reload()
        await expect(page.locator("#calibration-summary")).to_contain_text("2 double-reviewed cases")
        overall = rows[("overall", "")]
        await expect(page.locator("#overall-kappa")).to_have_text(f"{overall['kappa']:.2f}".rstrip("0").rstrip("."))
        dg1 = page.locator("#criteria-DG1")
        assert rows[("criterion", "DG1")]["flagged"]
        await expect(dg1).to_have_class("flagged")
        await expect(dg1).to_contain_text("Below threshold")
        await expect(page.locator("#flagged")).to_contain_text("DG1")
        await expect(page.locator("#criteria-DG2")).not_to_have_class("flagged")
        await expect(page.locator("#auditors")).to_contain_text("Ana Auditor")
        await expect(page.locator("#areas-DG td").last).to_have_text("Not appealed")
        await expect(page.get_by_role("img", name="Agreement (Cohen's kappa) by area")).to_be_visible()
        async with page.expect_download() as download:
            await page.get_by_role("link", name="Download the figures (CSV)").click()
        text = open(await (await download.value).path(), encoding="utf-8").read()
        assert text.startswith("scope,key,cases,pairs,agreement,kappa") and "criterion,DG1," in text
        await check_page(page, "calibration")
        # For an operator (a programme manager) this is a page of the operator console: its
        # name and its navigation, back to the overview on reporting.
        await expect(page.locator(".brand")).to_contain_text("Operations")
        nav = page.get_by_role("navigation", name="Main")
        assert (await nav.get_by_role("link", name="Overview").get_attribute("href")).endswith("/operator/")
        await expect(nav.get_by_role("link", name="Calibration")).to_have_attribute("aria-current", "page")
        await expect(nav.get_by_role("link", name="Queue")).to_have_count(0)

        es = await person("es-ES")
        await es.goto("/audit/calibration")
        await expect(es.get_by_role("heading", name="Coherencia de los revisores")).to_be_visible()
        await expect(es.locator("#calibration-summary")).to_contain_text("2 casos con doble revisión")
        await expect(es.locator("#criteria-DG1")).to_contain_text("Bajo el umbral")
        await check_page(es, "calibration-es")
    finally:
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task

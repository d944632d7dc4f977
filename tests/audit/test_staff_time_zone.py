"""A staff member chooses their own time zone in the auditor console (Chromium): a searchable
list of current zones by friendly name; intake keeps it, and the console then shows times
in it, named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from devtools.harness import Stack, serve
from certification.activities import ReviewRequest
from services.audit.activities import AuditActivities
from services.audit.config import AuditOptions
from shared.infra.auth import Role
from tests.audit.conftest import submission
from tests.portal.conftest import LAUNCH_ARGS, check_page, chromium  # noqa: F401 - the browser

pytestmark = pytest.mark.browser
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "audit"


async def test_an_auditor_picks_chicago_and_the_console_speaks_chicago_time(infra, tmp_path, chromium):  # noqa: F811
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("intake", "audit"),
                  build_kwargs={"audit": {"options": AuditOptions()}})
    await stack.start()
    base_url, server, task = await serve(stack.apps["audit"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    try:
        token = await stack.create_staff("ana@wwc.org", "Ana Ramos", Role.AUDITOR)
        context = await browser.new_context(base_url=base_url, locale="en-GB")
        context.set_default_timeout(15_000)
        await context.add_cookies([{"name": "wwc_token", "value": token, "url": base_url, "httpOnly": True,
                                    "sameSite": "Lax"}])
        page = await context.new_page()
        await page.goto("/audit/queue")
        await page.get_by_role("link", name="Your settings").click()
        zone = page.get_by_label("Your time zone")
        # The list offers current zones by friendly name, never a raw alias.
        offered = await page.locator("#timezone-zones option").evaluate_all("os => os.map(o => o.value)")
        assert any(o.startswith("Chicago (Central Time, UTC") for o in offered)
        assert not any("/" in o or "_" in o for o in offered) and len(offered) < 200
        await check_page(page, "settings", results=RESULTS)

        await zone.fill("US/Eastern")
        await page.get_by_role("button", name="Save the settings").click()
        await expect(page.locator("#timezone-error")).to_contain_text("Choose a time zone from the list")

        await zone.fill("Chicago")  # a place, typed: the keyboard's way through the list
        await page.get_by_role("button", name="Save the settings").click()
        await expect(page.get_by_role("status")).to_contain_text("Your time zone is saved")
        await expect(zone).to_have_value(re.compile(r"^Chicago \(Central Time, UTC−0[56]:00\)$"))
        await check_page(page, "settings-saved", results=RESULTS)
        async with stack.client("intake", token) as intake:
            assert (await intake.get("/api/v1/me")).json()["user"]["timezone"] == "America/Chicago"

        # Times on the console are now Chicago's, named by the place.
        await AuditActivities(stack.runtimes["audit"], AuditOptions()).open_review(
            ReviewRequest(submission_id="sub-1", correlation_id="sub-1", submission=submission()))
        await page.goto("/audit/cases/sub-1")
        await expect(page.locator("#case-facts")).to_contain_text("(Chicago)")
        # The review call's time is typed in it too (by the auditor who holds the case).
        async with stack.client("audit", token) as audit:
            assert (await audit.post("/api/v1/cases/sub-1/claim")).status_code == 200
        await page.goto("/audit/cases/sub-1/calls")
        await expect(page.locator("#held_time-hint")).to_contain_text("In your time zone: Chicago (Central Time")
        await page.goto("/audit/settings?lang=es")
        await expect(page.get_by_label("Su zona horaria")).to_have_value(re.compile(r"^Chicago \(hora central"))
        await check_page(page, "settings-es", results=RESULTS)
    finally:
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task
        await stack.stop()

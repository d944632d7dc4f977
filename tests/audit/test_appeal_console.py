"""An appeal in Chromium: a city whose certification completed with an audited change
appeals it from the portal (a file and a statement); an auditor who took no part in the
review finds it in the queue's "Appeals" section and overturns it with the form, a second
signs it off; the city's page then shows the outcome. Each page passes the accessibility
and readable-words checks."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from devtools import actors
from shared.infra.auth import Role
from tests.audit.browser import check_page
from tests.audit.test_console_journey import consoles, submitted_city  # noqa: F401 - the module's stack
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.portal.conftest import minimal_pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


async def test_a_city_appeals_and_independent_auditors_overturn_the_finding(consoles):  # noqa: F811
    stack = consoles.stack
    ana, ben, cam, dee = [await consoles.staff(f"{n}@appeals.wwc.org", f"{n.title()} Auditor")
                          for n in ("ana", "ben", "cam", "dee")]
    reviewer = actors.Auditor(stack, token(Role.AUDITOR, sub=ana))
    approver = actors.Auditor(stack, token(Role.AUDITOR, sub=ben))
    city = await submitted_city(consoles, "Lakeview")
    await reviewer.review(city["submission_id"], [actors.Change(
        "DG1", "IN_PROGRESS", "outdated_evidence", "The inventory submitted dates from 2019.",
        "An inventory updated in the last 12 months.")], approver=approver)
    person = actors.City(stack, "", "", token=city["token"], submission_id=city["submission_id"])
    await eventually(person.debrief_offered, timeout=90, interval=0.3)
    await person.decline_debrief()
    await eventually(lambda: _completed(person), timeout=90, interval=0.3)

    # The city, in its portal.
    portal = await consoles.person(consoles.portal_url, token=city["token"])
    await portal.goto("/portal/submission")
    await portal.get_by_role("link", name="Appeal a finding").click()
    await expect(portal.get_by_role("heading", level=1)).to_have_text("Appeal a finding")
    await expect(portal.locator("#finding-DG1")).to_contain_text("The inventory submitted dates from 2019.")
    await check_page(portal, "appeal-form")
    await portal.locator("#file-DG1").set_input_files(consoles.file("inventory-2026.pdf",
                                                                    minimal_pdf("Data inventory 2026")))
    await portal.locator("#file-DG1").locator("xpath=ancestor::form").get_by_role("button", name="Upload the file").click()
    await expect(portal.locator("#files-DG1-title").locator("xpath=..")).to_contain_text("inventory-2026.pdf")
    await portal.locator("#appeal-DG1").check()
    await portal.locator("#statement-DG1").fill("The 2026 inventory is attached; it is updated every quarter.")
    await portal.get_by_role("button", name="File the appeal").click()
    await expect(portal.locator("#appeal-status")).to_be_visible()
    await check_page(portal, "appeal-filed")

    # An auditor of the review may read it, not decide it.
    ana_page = await consoles.person(consoles.audit_url, token=token(Role.AUDITOR, sub=ana))
    cam_page = await consoles.person(consoles.audit_url, token=token(Role.AUDITOR, sub=cam))

    async def in_queue():
        await cam_page.goto("/audit/queue")
        return await cam_page.locator("#appeals-section a", has_text="Lakeview").count() > 0

    await eventually(in_queue, timeout=60, interval=0.5)
    await cam_page.locator("#appeals-section a", has_text="Lakeview").click()
    await expect(cam_page.locator(".statement")).to_contain_text("updated every quarter")
    await expect(cam_page.get_by_role("link", name="inventory-2026.pdf")).to_be_visible()
    await check_page(cam_page, "appeal-page")
    await ana_page.goto(cam_page.url)
    await expect(ana_page.locator("#not-independent")).to_be_visible()
    await expect(ana_page.get_by_role("button", name="Save the decision")).to_have_count(0)

    # Cam overturns it; Cam cannot sign off; Dee does.
    await cam_page.get_by_label("Overturned: the city is right").check()
    await cam_page.get_by_label("Reason").select_option("additional_evidence_provided")
    await cam_page.get_by_label("Explanation for the city").fill("The 2026 inventory meets the criterion.")
    await cam_page.get_by_role("button", name="Save the decision").click()
    await expect(cam_page.locator("#decision-DG1")).to_contain_text("Overturned")
    await expect(cam_page.get_by_role("button", name="Sign off the appeal")).to_have_count(0)
    dee_page = await consoles.person(consoles.audit_url, token=token(Role.AUDITOR, sub=dee))
    await dee_page.goto(cam_page.url)
    await dee_page.get_by_role("button", name="Sign off the appeal").click()
    await expect(dee_page.locator("#appeal-signoff")).to_contain_text("Signed off by Dee Auditor")
    await check_page(dee_page, "appeal-signed-off")
    # The list of appeals (from the navigation): the finding by its statement, decided, no longer due.
    await dee_page.get_by_role("navigation", name="Main").get_by_role("link", name="Appeals").click()
    row = dee_page.locator("#appeals tbody tr", has_text="Lakeview")
    await expect(row.locator(".cell-list li")).to_have_text(re.compile(r"^DG1 — \w"))
    await expect(row).to_contain_text("Decided on")
    await check_page(dee_page, "appeals-list")

    async def decided():
        await portal.goto("/portal/submission/appeal")
        return "Overturned" in await portal.locator("#appeal-status").inner_text()

    await eventually(decided, timeout=60, interval=0.5)
    await expect(portal.locator("#appeal-status")).to_contain_text("Findings overturned: 1; upheld: 0.")
    await check_page(portal, "appeal-decided")
    await portal.goto("/portal/submission")
    await expect(portal.locator("#appeal-card")).to_contain_text("Findings overturned: 1; upheld: 0.")


async def _completed(person: actors.City) -> bool:
    return await person.stage() == "completed"

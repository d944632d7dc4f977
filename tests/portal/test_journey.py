"""The whole city journey through the portal in Chromium, against all five services:
register, Data Snapshot, 45 criteria with uploaded files and links, submit (first
refused with the list of what is missing), the status moving, an auditor's clarification
request (through audit's API) answered with a new narrative and a file, then the review
signed off by a second auditor, the debrief declined, and the result."""

from __future__ import annotations

import re

from datetime import datetime, timedelta

import pytest
from playwright.async_api import expect

from shared.scoring.engine import score
from shared.catalog.loader import load_catalog
from devtools import actors
from shared.infra.auth import Role
from shared.infra.settings import SERVICES
from tests.infra.test_consumer import eventually
from tests.portal.conftest import PASSWORD, check_page, minimal_pdf, minimal_png, register_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

PORTAL_SERVICES = SERVICES
CATALOG = load_catalog("wwc-2019")
# Files for the first criteria, links for the rest; a few IN_PROGRESS and NO answers.
FILES = {"DG1": ("data-inventory.pdf", minimal_pdf("Data inventory")),
         "DG2": ("governance-roster.png", minimal_png()),
         "DG3": ("data-quality-policy.pdf", minimal_pdf("Data quality policy"))}
ANSWERS = {c.id: ("NO" if i % 9 == 8 else "IN_PROGRESS" if i % 7 == 6 else "YES")
           for i, c in enumerate(CATALOG.criteria)}


async def status_shows(page, stage: str, timeout: float = 60, *, also: str | None = None) -> None:
    """Reload the status page until the current stage reads `stage` (and, with `also`, the
    page says that too: the stage and, e.g., the auditor's request come from two services'
    events, which may arrive a moment apart)."""
    deadline = datetime.now() + timedelta(seconds=timeout)
    while True:
        await page.goto("/portal/submission")
        if (await page.locator("#current-stage").inner_text()).strip() == stage and (
                also is None or also in await page.locator("main").inner_text()):
            return
        if datetime.now() > deadline:
            raise AssertionError(f"status never showed {stage!r}; it shows "
                                 f"{await page.locator('#current-stage').inner_text()!r}")
        await page.wait_for_timeout(300)


async def test_a_city_goes_from_registration_to_a_result(portal):
    page = await portal.page()

    # --- register ----------------------------------------------------------------------------
    await page.goto("/portal/")
    await page.get_by_role("link", name="Register your city").click()
    await register_in_browser(portal, page, name="Springfield", state="Illinois", population="116250", contact="Jordan Lee",
                              email="jordan.lee@springfield.gov", password=PASSWORD)
    await page.wait_for_url("**/portal/snapshot?done=registered")
    await check_page(page, "snapshot-form")

    # --- Data Snapshot: immediate result ------------------------------------------------------
    for number, question in enumerate(CATALOG.snapshot, 1):
        await page.locator(f"#{question.id}" if number != 6 else f"#{question.id}-no").check()
    await page.get_by_role("button", name="See the result").click()
    await expect(page.locator("#eligibility")).to_contain_text("Springfield is eligible for the full Assessment")
    await expect(page.get_by_role("heading", name="What your city already does (7 of 8)")).to_be_visible()
    await expect(page.get_by_text(CATALOG.text(CATALOG.snapshot[5]))).to_be_visible()  # what is missing
    await check_page(page, "snapshot-result")

    # --- the assessment draft -----------------------------------------------------------------
    await page.get_by_role("link", name="Go to the Assessment").click()
    await page.get_by_role("button", name="Start the Assessment").click()
    await expect(page.get_by_role("status")).to_contain_text("Your Assessment draft is ready")
    await check_page(page, "assessment-empty")

    # Submitting now is refused with the list of what is missing.
    await page.goto("/portal/assessment/submit")
    await page.get_by_role("button", name="Submit the assessment").click()
    await expect(page.locator("#error-summary")).to_contain_text("45 items are missing")
    await expect(page.get_by_role("link", name="DG1: not answered yet")).to_be_visible()
    await check_page(page, "submit-incomplete")

    # Every criterion: evidence (a file or a link), a response and a narrative.
    await page.goto(f"/portal/assessment/criteria/{CATALOG.criteria[0].id}")
    for index, crit in enumerate(CATALOG.criteria):
        assert page.url.split("?")[0].endswith(f"/criteria/{crit.id}"), page.url
        if crit.id in FILES:
            name, content = FILES[crit.id]
            await page.get_by_label("File", exact=True).set_input_files(str(portal.file(name, content)))
            await page.get_by_role("button", name="Upload the file").click()
            await expect(page.get_by_role("status")).to_have_text("The file is uploaded.")
        elif ANSWERS[crit.id] == "YES":
            await page.get_by_label("Web address").fill(f"https://data.springfield.gov/{crit.id.lower()}")
            await page.get_by_role("button", name="Add the link").click()
            await expect(page.get_by_role("status")).to_have_text("The link is added.")
        if index == 0:
            await check_page(page, "criterion")
        label = {"YES": "Yes", "IN_PROGRESS": "In progress", "NO": "No"}[ANSWERS[crit.id]]
        await page.get_by_label(label, exact=True).check()
        await page.get_by_label("Narrative").fill(f"Springfield on {crit.id}: see the evidence provided.")
        await page.get_by_role("button", name="Save and continue").click()
        await page.wait_for_load_state()

    # The last "Save and continue" leads to the review page: nothing is missing now.
    await page.wait_for_url("**/portal/assessment/submit?done=saved")
    await expect(page.get_by_text("Every criterion is answered and every YES has evidence.")).to_be_visible()

    # An uploaded file opens through a short-lived authorised link.
    await page.goto("/portal/assessment/criteria/DG1")
    href = await page.get_by_role("link", name="data-inventory.pdf").get_attribute("href")
    download = await page.request.get(href)
    assert download.ok and (await download.body()) == FILES["DG1"][1]

    await page.goto("/portal/assessment")
    await expect(page.locator(".big-number")).to_have_text("45")
    await check_page(page, "assessment-complete")
    await page.get_by_role("link", name="Review and submit").click()
    await page.get_by_role("button", name="Submit the assessment").click()
    await page.wait_for_url("**/portal/submission?done=submitted")

    # --- status moves -----------------------------------------------------------------------
    await status_shows(page, "Auditor review")
    await expect(page.locator(".timeline li.done").first).to_contain_text("Submitted")
    await expect(page.locator(".timeline")).to_contain_text("Evidence check")
    await check_page(page, "status-in-review")

    intake = portal.intake
    async with intake.db.sessionmaker() as session:
        from sqlalchemy import select

        from services.intake.models import Submission

        sub = (await session.scalars(select(Submission))).one()
    assert sub.frozen["responses"]["DG1"]["response"] == "YES"
    stack = portal.stack
    ana = actors.Auditor(stack, await stack.create_staff("ana@auditors.example.org", "Ana Ramos", Role.AUDITOR))
    ben = actors.Auditor(stack, await stack.create_staff("ben@auditors.example.org", "Ben Okafor", Role.AUDITOR))
    await ana.wait_for_case(sub.id)
    await ana.claim(sub.id)

    # --- a clarification request, answered before its due date ------------------------------
    await ana.ask_city(sub.id, ["DG1", "OD3"],
                       "Please send the current data inventory and the open data portal's usage report.")
    await status_shows(page, "Clarification requested", also="Please send the current data inventory")
    await expect(page.get_by_text("Please send the current data inventory")).to_be_visible()
    # Its due date in the city's own time (Springfield, Illinois: Chicago), named, not UTC.
    await expect(page.get_by_text(re.compile(r"Due [A-Z][a-z]{2} \d+, \d{4}, .* \(Chicago\)"))).to_be_visible()
    await check_page(page, "status-clarification")
    await page.get_by_role("link", name="Answer the request").click()
    await check_page(page, "clarification")
    await page.get_by_label("File for DG1").set_input_files(
        str(portal.file("inventory-2026.pdf", minimal_pdf("Inventory 2026"))))
    await page.locator("form:has(#file-DG1)").get_by_role("button", name="Upload the file").click()
    await expect(page.get_by_role("status")).to_have_text("The file is uploaded.")
    await expect(page.get_by_role("button", name="Remove inventory-2026.pdf")).to_be_visible()
    # Sending without the second narrative names the missing field.
    await page.get_by_label("New narrative for DG1").fill("The 2026 inventory is attached; it is updated monthly.")
    await page.get_by_role("button", name="Send the answer").click()
    await expect(page.locator("#narrative-OD3-error")).to_have_text("Error: Enter a new narrative for OD3")
    await expect(page.get_by_label("New narrative for DG1")).to_have_value(
        "The 2026 inventory is attached; it is updated monthly.")
    await page.get_by_label("New narrative for OD3").fill("The usage report is published with the portal.")
    await page.get_by_label("Link for OD3 (optional)").fill("https://data.springfield.gov/usage-2026")
    await page.get_by_role("button", name="Send the answer").click()
    await page.wait_for_url("**/portal/submission?done=clarification_answered")
    await status_shows(page, "Auditor review")
    await expect(page.get_by_role("link", name="Answer the request")).to_have_count(0)

    # --- the review completes: scoring, report, debrief, result ------------------------------
    # The answered criteria are looked at one by one (never confirmed in bulk), then the rest.
    await eventually(lambda: ana.round_closed(sub.id), timeout=60, interval=0.2)
    for cid in ("DG1", "OD3"):
        await ana.confirm(sub.id, cid)
    await ana.confirm_remaining(sub.id)
    await ben.approve(sub.id, await ana.request_signoff(sub.id))
    await status_shows(page, "Debrief offered", timeout=120)
    token = (await page.context.cookies())
    city = actors.City(stack, "Springfield", "", submission_id=sub.id,
                       token=next(c["value"] for c in token if c["name"] == "wwc_token"))
    await city.decline_debrief()  # the city declines the call
    await status_shows(page, "Completed", timeout=60)
    expected = score(CATALOG, ANSWERS)
    await expect(page.get_by_text(f"{expected.met} of 45 criteria met")).to_be_visible()
    timeline = page.locator(".timeline")
    for stage in ("Submitted", "Evidence check", "Auditor review", "Clarification requested", "Scoring",
                  "Report", "Debrief offered", "Completed"):
        await expect(timeline).to_contain_text(stage)
    await expect(page.get_by_role("link", name="Withdraw the submission")).to_have_count(0)
    await check_page(page, "status-completed")

"""The blind second review in Chromium (issue 21.2): a manager chooses the second reviewer
at random; the second reviewer sees no first decision and saves the blind form (a change
without its reasons comes back with a message); after the sign-off request an approver
resolves each difference on the sign-off page, and taking the second decision changes the
decision. Checked in English and Portuguese."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from devtools.harness import serve
from tests.audit.browser import LAUNCH_ARGS, check_page
from shared.catalog.loader import load_catalog
from tests.audit.doubles import first_review

CATALOG = load_catalog("wwc-2019")
AREAS = {a.id: CATALOG.text(a.name, "en") for a in CATALOG.areas}

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_second_reviewer_reviews_blind_and_the_approver_resolves(doubled, chromium):
    audit = doubled
    tokens = {who: await audit.auditor(who, f"{who.title()} Auditor") for who in ("ana", "ben", "cleo")}
    sid = await audit.open()
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        await first_review(ana, sid, {"DG1": "IN_PROGRESS"})
    url, server, task = await serve(audit.stack.apps["audit"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)

    async def person(who: str, locale: str = "en-GB"):
        context = await browser.new_context(base_url=url, locale=locale, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(20_000)
        await context.add_cookies([{"name": "wwc_token", "value": tokens[who], "url": url, "httpOnly": True,
                                    "sameSite": "Lax"}])
        return await context.new_page()

    try:
        # Ana (the holder) asks for a second reviewer: drawn among Ben and Cleo.
        page = await person("ana")
        await page.goto(f"/audit/cases/{sid}")
        await page.get_by_role("link", name="Second review").click()
        await page.get_by_role("button", name="Choose a second reviewer at random").click()
        await page.wait_for_url("**/second-review?done=second_assigned")
        second = (await audit.case(sid)).second_reviewer_id
        assert second in {"ben", "cleo"}
        await expect(page.locator("#second-reviewer")).to_have_text(f"{second.title()} Auditor")
        await expect(page.locator("#second-form")).to_have_count(0)
        approver = "cleo" if second == "ben" else "ben"

        # The second reviewer: no first decision anywhere; the blind form.
        rev = await person(second)
        await rev.goto(f"/audit/cases/{sid}")
        await expect(rev.locator("#row-DG1")).to_contain_text("No decision yet")
        await rev.goto(f"/audit/cases/{sid}/second-review")
        await rev.get_by_label("Your response on GM1").select_option("NO")
        await rev.get_by_role("button", name=f"Save {AREAS['GM']}").click()
        await expect(rev.locator("#second-GM1")).to_contain_text("a change needs a reason and a note")
        await check_page(rev, "second-review-error")
        await rev.get_by_label("Reason for a change on GM1").select_option("requirement_not_met")
        await rev.get_by_label("Note on GM1").fill("The memo sets no goals.")
        await rev.get_by_label("What would satisfy GM1").fill("A memo that sets goals.")
        for area in ["GM", *(a for a in AREAS if a != "GM")]:  # one form per area; the rest as submitted
            await rev.get_by_role("button", name=f"Save {AREAS[area]}", exact=True).click()
            await rev.wait_for_url("**/second-review?done=second_saved")
        await expect(rev.locator("#second-facts")).to_contain_text("45 of 45")
        await check_page(rev, "second-review")
        pt = await person(second, "pt-BR")
        await pt.goto(f"/audit/cases/{sid}/second-review")
        await expect(pt.locator("#second-form-GM button")).to_contain_text("Salvar")
        await check_page(pt, "second-review-pt")

        async with audit.client("ana") as ana:
            r = await ana.post(f"/api/v1/cases/{sid}/signoff/request")
            assert r.status_code == 200, r.text

        # The approver resolves both differences on the sign-off page.
        app = await person(approver)
        await app.goto(f"/audit/cases/{sid}/signoff")
        differences = app.locator("#differences")
        await expect(differences.locator("tbody tr")).to_have_count(2)
        await check_page(app, "signoff-differences")
        row = app.locator("#difference-GM1")
        await row.get_by_label("Take the second decision").check()
        await row.get_by_label("Why").fill("The memo indeed sets no goals.")
        await row.get_by_role("button", name="Record the resolution").click()
        await app.wait_for_url("**/signoff?done=resolved")
        await expect(app.locator("#difference-GM1")).to_contain_text("Take the second decision")
        row = app.locator("#difference-DG1")
        await row.get_by_label("Why").fill("The inventory is outdated, as the first review found.")
        await row.get_by_role("button", name="Record the resolution").click()
        await app.wait_for_url("**/signoff?done=resolved")
        await app.get_by_role("button", name="Approve the review").click()
        await app.wait_for_url("**/signoff?done=approved")
        ptapp = await person(approver, "pt-BR")
        await ptapp.goto(f"/audit/cases/{sid}/signoff")
        await expect(ptapp.locator("#difference-GM1")).to_contain_text("Adotar a segunda decisão")
        await check_page(ptapp, "signoff-differences-pt")
        await app.goto(f"/audit/cases/{sid}/trail")
        await expect(app.locator("main")).to_contain_text("the second decision is taken")
        await check_page(app, "trail-second-review")
    finally:
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task
    case = await audit.case(sid)
    assert case.audited_responses["GM1"] == "NO" and case.audited_responses["DG1"] == "IN_PROGRESS"

"""Portal pages in Chromium: keyboard-only sign-in, Spanish and Portuguese catalog texts,
registering a city whose Data Snapshot is ineligible, a stale save, a refused file next
to its field, carry-over of last cycle's answers, and withdrawing with confirmation."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from sqlalchemy import update

from services.intake.models import City
from shared.catalog.loader import load_catalog
from tests.infra.test_consumer import eventually
from tests.portal.conftest import CYCLE, PASSWORD, check_page, minimal_pdf

pytestmark = pytest.mark.browser

CATALOG = load_catalog("wwc-2019")


async def focused(page) -> str:
    return await page.evaluate("document.activeElement.id || document.activeElement.className")


async def tab_to(page, element_id: str, limit: int = 12) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await focused(page) == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


async def test_sign_in_with_the_keyboard_alone(portal):
    city = await portal.city("Tabbington", snapshot=False, draft=False)
    page = await portal.page()
    await page.goto("/portal/sign-in")
    await check_page(page, "sign-in")

    # The first Tab stop is the skip link, with a visible focus indicator; Enter skips to main.
    await page.keyboard.press("Tab")
    assert await focused(page) == "skip-link"
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    await page.keyboard.press("Enter")
    assert await focused(page) == "main"

    # A wrong password: the error summary takes the focus and names the field.
    await tab_to(page, "email")
    await page.keyboard.type(city["email"])
    await page.keyboard.press("Tab")
    assert await focused(page) == "password"
    await page.keyboard.type("not-the-password")
    await page.keyboard.press("Enter")
    await expect(page.locator("#error-summary")).to_contain_text("The email address or password is not correct")
    assert await focused(page) == "error-summary"
    assert "email-error" in (await page.get_attribute("#email", "aria-describedby"))
    await check_page(page, "sign-in-error")

    # The email is kept; Tab on to the password and sign in with Enter.
    await tab_to(page, "password")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/portal/home")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tabbington: your Certification")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "wwc_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    await check_page(page, "home")

    # Sign out is a keyboard-reachable form button too.
    await page.get_by_role("button", name="Sign out").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/portal/sign-in?done=signed_out")
    assert not [c for c in await page.context.cookies() if c["name"] == "wwc_token"]


async def test_spanish_and_portuguese_pages_show_catalog_texts(portal):
    city = await portal.city("Villa Nueva")
    page = await portal.page(city["token"])
    crit = CATALOG.criterion("DG1")
    await page.goto("/portal/assessment/criteria/DG1?lang=es")
    assert await page.get_attribute("html", "lang") == "es"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Criterio DG1")
    await expect(page.locator("#criterion-text")).to_have_text(CATALOG.text(crit, "es"))
    await expect(page.locator(".guidance p")).to_have_text(CATALOG.text(crit.evidence, "es"))
    await expect(page.get_by_role("group", name="¿Su gobierno local hace esto?")).to_be_visible()
    await check_page(page, "criterion-es")

    # The choice is kept in a cookie: the next page is Spanish without ?lang=.
    await page.goto("/portal/assessment")
    assert await page.get_attribute("html", "lang") == "es"
    for area in CATALOG.areas:
        await expect(page.get_by_role("link", name=CATALOG.text(area, "es"), exact=True)).to_be_visible()

    # Portuguese, chosen by the browser's Accept-Language (no cookie yet).
    other = await portal.city("Vila Nova", snapshot=False, draft=False)
    pt = await portal.page(other["token"], locale="pt-BR")
    await pt.goto("/portal/snapshot")
    assert await pt.get_attribute("html", "lang") == "pt"
    await expect(pt.get_by_role("heading", level=1)).to_have_text("Data Snapshot")
    for question in CATALOG.snapshot:
        await expect(pt.get_by_role("group", name=CATALOG.text(question, "pt"))).to_be_visible()
    await expect(pt.get_by_role("button", name="Ver o resultado")).to_be_visible()
    await check_page(pt, "snapshot-pt")
    # The switcher changes it back, from any page.
    await pt.get_by_role("link", name="English").click()
    assert await pt.get_attribute("html", "lang") == "en"


async def test_register_a_small_city_whose_snapshot_is_ineligible(portal):
    page = await portal.page()
    await page.goto("/portal/register")
    await check_page(page, "register")
    await page.get_by_role("button", name="Register and continue").click()
    await expect(page.locator("#error-summary")).to_contain_text("Enter the city's name")
    await expect(page.locator("#population-error")).to_be_visible()
    await check_page(page, "register-errors")

    # A city the programme cannot certify is told so at the door, beside its population.
    await page.get_by_label("City name").fill("Smallville")
    await page.get_by_label("Country").select_option("US")
    await page.get_by_label("State or province").select_option(label="Vermont")
    await page.get_by_label("Population").fill("12,000")
    await page.get_by_label("Your name").fill("Lana Lang")
    await page.get_by_label("Email address").fill("lana@smallville.gov")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Confirm the password").fill(PASSWORD)
    await page.get_by_role("button", name="Register and continue").click()
    await expect(page.locator("#population-error")).to_contain_text(
        "at least 30,000 residents; Smallville has 12,000")
    await check_page(page, "register-ineligible")

    # A registered city whose population was corrected below the minimum meets the same
    # rule at its Data Snapshot.
    small = await portal.city("Smallville", snapshot=False, draft=False, state="US-VT", population=45_000)
    async with portal.intake.db.transaction() as session:
        await session.execute(update(City).where(City.id == small["id"]).values(population=12_000))
    page = await portal.page(small["token"])
    await page.goto("/portal/snapshot")

    # Leaving a question out names it; then answer all eight.
    await page.locator("#SNAP1").check()
    await page.get_by_role("button", name="See the result").click()
    await expect(page.locator("#error-summary")).to_contain_text("Answer question 2 with yes or no")
    assert await page.locator("#SNAP1").is_checked()
    for number, question in enumerate(CATALOG.snapshot, 1):
        await page.locator(f"#{question.id}" if number % 3 == 1 else f"#{question.id}-no").check()
    await page.get_by_role("button", name="See the result").click()
    await page.wait_for_url("**/portal/snapshot?done=snapshot_taken")
    verdict = page.locator("#eligibility")
    await expect(verdict).to_contain_text("Smallville cannot go on to the full Assessment")
    await expect(verdict).to_contain_text("at least 30,000 residents; Smallville has 12,000")
    await expect(page.get_by_role("heading", name="What your city already does (3 of 8)")).to_be_visible()
    await expect(page.get_by_role("heading", name="What is missing (5)")).to_be_visible()
    await check_page(page, "snapshot-ineligible")

    await page.get_by_role("link", name="Assessment", exact=True).click()
    await expect(page.get_by_role("heading", name="Your city is not eligible for the Assessment")).to_be_visible()


async def test_stale_save_shows_the_other_persons_answer(portal):
    city = await portal.city("Twin Falls")
    async with portal.api(city["token"]) as client:
        await portal.stack.invite_staff(client, city["id"], {"email": "sam@twinfalls.gov", "name": "Sam Ortiz",
                                                             "password": PASSWORD})
    async with portal.api() as anon:
        r = await anon.post("/api/v1/auth/token", json={"email": "sam@twinfalls.gov", "password": PASSWORD})
        assert r.status_code == 200, r.text
    me, sam = await portal.page(city["token"]), await portal.page(r.json()["access_token"])
    for page in (me, sam):
        await page.goto("/portal/assessment/criteria/DG2")

    sams_words = "Policy drafted; the council votes in May."
    await sam.get_by_label("In progress").check()
    await sam.get_by_label("Narrative").fill(sams_words)
    await sam.get_by_role("button", name="Save", exact=True).click()
    await expect(sam.get_by_role("status")).to_have_text("Your answer is saved.")

    my_words = "The data governance policy was adopted in March."
    await me.get_by_label("Yes", exact=True).check()
    await me.get_by_label("Narrative").fill(my_words)
    await me.get_by_role("button", name="Save", exact=True).click()
    conflict = me.locator("#conflict")
    await expect(conflict).to_contain_text("Someone else saved this criterion while you were editing")
    await expect(conflict).to_contain_text("Sam Ortiz")
    await expect(conflict).to_contain_text("In progress")
    await expect(conflict).to_contain_text(sams_words)
    await expect(me.locator(".error-summary a[href='#conflict']")).to_be_visible()
    # Nothing of mine was lost or written: my values are still in the form.
    await expect(me.get_by_label("Narrative")).to_have_value(my_words)
    assert await me.get_by_label("Yes", exact=True).is_checked()
    await check_page(me, "conflict")

    # Saving again, knowingly, replaces the colleague's answer.
    await me.get_by_role("button", name="Save", exact=True).click()
    await expect(me.get_by_role("status")).to_have_text("Your answer is saved.")
    await sam.reload()
    await expect(sam.get_by_label("Narrative")).to_have_value(my_words)


async def test_refused_file_is_shown_next_to_its_field(portal):
    city = await portal.city("Fileton")
    page = await portal.page(city["token"])
    await page.goto("/portal/assessment/criteria/DG1")
    file_field = page.get_by_label("File", exact=True)

    await file_field.set_input_files(str(portal.file("inventory.pdf", b"just some notes, not a PDF\n")))
    await page.get_by_role("button", name="Upload the file").click()
    await expect(page.locator("#file-error")).to_contain_text("does not match its name")
    assert "file-error" in await page.get_attribute("#file", "aria-describedby")
    assert await page.get_attribute("#file", "aria-invalid") == "true"
    await expect(page.locator(".error-summary a[href='#file']")).to_be_visible()
    await expect(page.locator("#no-evidence")).to_be_visible()
    await check_page(page, "bad-file")

    await page.get_by_label("File", exact=True).set_input_files(str(portal.file("setup.exe", b"MZ\x90\x00program")))
    await page.get_by_role("button", name="Upload the file").click()
    await expect(page.locator("#file-error")).to_contain_text("must be a PDF, DOCX, XLSX, CSV, PNG, JPEG or TXT")

    # A real PDF is accepted, listed, and can be removed while the assessment is a draft.
    await page.get_by_label("File", exact=True).set_input_files(str(portal.file("inventory.pdf", minimal_pdf())))
    await page.get_by_label("File description (optional)").fill("Data inventory 2026")
    await page.get_by_role("button", name="Upload the file").click()
    await expect(page.get_by_role("status")).to_have_text("The file is uploaded.")
    await expect(page.get_by_role("link", name="Data inventory 2026")).to_be_visible()
    await page.get_by_role("button", name="Remove Data inventory 2026").click()
    await expect(page.get_by_role("status")).to_have_text("The evidence is removed.")
    await expect(page.locator("#no-evidence")).to_be_visible()


async def test_nothing_typed_is_lost_when_evidence_is_added_without_javascript(portal):
    """The answer and the narrative travel with the link and the file (one form, without
    JavaScript): they are saved first, so adding evidence never throws them away."""
    city = await portal.city("Keepton")
    page = await portal.page(city["token"], java_script_enabled=False)
    await page.goto("/portal/assessment/criteria/DG1")
    await page.get_by_label("Yes", exact=True).check()
    await page.get_by_label("Narrative").fill("Our inventory lists 212 datasets.")
    await page.get_by_label("Web address").fill("https://data.keepton.gov/inventory")
    await page.get_by_role("button", name="Add the link").click()
    await expect(page.get_by_role("status")).to_have_text("The link is added.")
    await expect(page.get_by_label("Yes", exact=True)).to_be_checked()
    await expect(page.get_by_label("Narrative")).to_have_value("Our inventory lists 212 datasets.")

    await page.get_by_label("Narrative").fill("Our inventory lists 214 datasets, updated in March.")
    await page.get_by_label("File", exact=True).set_input_files(str(portal.file("inventory.pdf", minimal_pdf())))
    await page.get_by_role("button", name="Upload the file").click()
    await expect(page.get_by_role("status")).to_have_text("The file is uploaded.")
    await expect(page.get_by_label("Narrative")).to_have_value("Our inventory lists 214 datasets, updated in March.")
    async with portal.api(city["token"]) as api:
        saved = (await api.get(f"/api/v1/assessments/{CYCLE}/responses/DG1")).json()
    assert saved["response"] == "YES" and saved["narrative"].startswith("Our inventory lists 214")
    assert sorted(e["kind"] for e in saved["evidence"]) == ["file", "link"]


async def test_the_editor_saves_as_you_type_and_adds_evidence_without_leaving_the_page(portal):
    city = await portal.city("Autoville")
    page = await portal.page(city["token"])
    await page.goto("/portal/assessment/criteria/DG2")
    await page.evaluate("window.samePage = true")  # gone if the page were loaded again
    await page.get_by_label("In progress", exact=True).check()
    await page.get_by_label("Narrative").fill("A governance charter is drafted; the council votes in May.")
    await expect(page.locator("#autosave-status")).to_contain_text("Saved automatically at")
    async with portal.api(city["token"]) as api:
        saved = (await api.get(f"/api/v1/assessments/{CYCLE}/responses/DG2")).json()
    assert (saved["response"], saved["narrative"]) == (
        "IN_PROGRESS", "A governance charter is drafted; the council votes in May.")

    # Typing on saves again (the form follows the saved version: no false conflict).
    await page.get_by_label("Narrative").fill("The charter was adopted in May.")
    await expect(page.locator("#autosave-status")).to_contain_text("Saved automatically at")
    await page.get_by_label("File", exact=True).set_input_files(str(portal.file("charter.pdf", minimal_pdf())))
    await page.get_by_role("button", name="Upload the file").click()
    await expect(page.get_by_role("status").filter(has_text="The file is uploaded.")).to_be_visible()
    await expect(page.get_by_role("link", name="charter.pdf")).to_be_visible()
    assert await page.evaluate("window.samePage === true")
    await expect(page.get_by_label("Narrative")).to_have_value("The charter was adopted in May.")
    await check_page(page, "criterion-autosaved")
    async with portal.api(city["token"]) as api:
        saved = (await api.get(f"/api/v1/assessments/{CYCLE}/responses/DG2")).json()
    assert saved["narrative"] == "The charter was adopted in May." and len(saved["evidence"]) == 1


async def test_carry_over_of_last_cycles_answers(portal):
    city = await portal.city("Oldtown", draft=False)
    async with portal.api(city["token"]) as client:
        answers = {q.id: True for q in CATALOG.snapshot}
        assert (await client.post("/api/v1/snapshots/2025", json={"answers": answers})).status_code == 201
        assert (await client.post("/api/v1/assessments/2025")).status_code == 201
        r = await client.put("/api/v1/assessments/2025/responses", json={"responses": {
            "DG1": {"response": "YES", "narrative": "Inventory published in 2025.",
                    "links": ["https://data.oldtown.gov/inventory"]},
            "DG2": {"response": "IN_PROGRESS", "narrative": "Governance charter in draft."},
        }})
        assert r.status_code == 200, r.text
        assert (await client.post(f"/api/v1/assessments/{CYCLE}")).status_code == 201
    page = await portal.page(city["token"])
    await page.goto("/portal/assessment")
    await expect(page.get_by_role("heading", name="Start from your 2025 answers")).to_be_visible()
    await check_page(page, "assessment-carry-over")
    await page.get_by_role("button", name="Copy 2 answers").click()
    await expect(page.get_by_role("status")).to_contain_text("Last cycle's answers were copied")
    await expect(page.get_by_role("heading", name="Start from your 2025 answers")).to_have_count(0)
    await page.goto("/portal/assessment/criteria/DG1")
    await expect(page.get_by_label("Narrative")).to_have_value("Inventory published in 2025.")
    assert await page.get_by_label("Yes", exact=True).is_checked()
    await expect(page.locator("#no-evidence")).to_be_visible()  # evidence is not carried over


async def test_withdraw_asks_for_confirmation(portal):
    city = await portal.city("Quitsburg")
    async with portal.api(city["token"]) as client:
        body = {c.id: {"response": "YES", "narrative": f"about {c.id}",
                       "links": [f"https://data.quitsburg.gov/{c.id.lower()}"]} for c in CATALOG.criteria}
        assert (await client.put(f"/api/v1/assessments/{CYCLE}/responses",
                                 json={"responses": body})).status_code == 200
        r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
        assert r.status_code == 201, r.text
        submission_id = r.json()["id"]

        async def in_review():
            return (await client.get(f"/api/v1/submissions/{submission_id}")).json()["status"] == "in_review"

        await eventually(in_review, timeout=30, interval=0.2)
    page = await portal.page(city["token"])
    await page.goto("/portal/submission")
    await expect(page.locator("#current-stage")).to_have_text("Auditor review")
    await page.get_by_role("link", name="Withdraw the submission").click()
    await check_page(page, "withdraw")
    await page.get_by_role("button", name="Withdraw the submission").click()
    await expect(page.locator("#confirm-error")).to_contain_text("Tick the box to confirm the withdrawal")
    await page.get_by_label("Reason (optional)").fill("We will apply next cycle.")
    await page.get_by_label("I understand that the submission will be withdrawn").check()
    await page.get_by_role("button", name="Withdraw the submission").click()
    await page.wait_for_url("**/portal/submission?done=withdrawn")
    await expect(page.locator("#current-stage")).to_have_text("Withdrawn")
    await expect(page.get_by_text("Reason given for the withdrawal: We will apply next cycle.")).to_be_visible()
    await expect(page.get_by_text("Withdrawn by Quitsburg Data Office.")).to_be_visible()  # who, not just that
    await expect(page.get_by_role("link", name="Withdraw the submission")).to_have_count(0)


async def test_forms_without_their_csrf_token_are_refused(portal):
    city = await portal.city("Forgery Falls")
    page = await portal.page(city["token"])
    await page.goto("/portal/assessment/criteria/DG1")
    token = await page.locator("#answer-form input[name=csrf_token]").input_value()
    answer = {"response": "YES", "narrative": "forged", "version": "0", "action": "save"}

    # Signed in (the context sends the session cookie), but no or a wrong token: refused.
    for form in (answer, {**answer, "csrf_token": "not-the-token-" + "x" * 32}):
        r = await page.request.post(f"{portal.base_url}/portal/assessment/criteria/DG1", form=form)
        assert r.status == 403 and "This form has expired" in await r.text()
    r = await page.request.post(f"{portal.base_url}/portal/assessment/criteria/DG1/evidence/file",
                                multipart={"file": {"name": "a.pdf", "mimeType": "application/pdf",
                                                    "buffer": minimal_pdf()}})
    assert r.status == 403
    async with portal.api(city["token"]) as client:
        saved = (await client.get(f"/api/v1/assessments/{CYCLE}/responses/DG1")).json()
        files = (await client.get(f"/api/v1/assessments/{CYCLE}/evidence")).json()
    assert saved["version"] == 0 and files == []

    # With the page's token the same answer is saved.
    r = await page.request.post(f"{portal.base_url}/portal/assessment/criteria/DG1",
                                form={**answer, "csrf_token": token}, max_redirects=0)
    assert r.status == 303


async def test_city_settings_change_time_zone_and_language(portal):
    """The time zone comes from the city's place; staff change it and the mail language."""
    city = await portal.city("Zonesville", snapshot=False, draft=False)
    page = await portal.page(city["token"])
    await page.goto("/portal/home")
    await expect(page.get_by_text("Chicago (Central Time, UTC")).to_be_visible()  # Illinois
    await page.get_by_role("link", name="Change the city's time zone or language").click()
    await page.wait_for_url("**/portal/city")
    await check_page(page, "city-settings")
    zone = page.get_by_label("Time zone")
    await expect(zone).to_have_value(re.compile(r"^Chicago \(Central Time, UTC−0[56]:00\)$"))
    # A zone that is no longer current (an alias) is refused, said beside the field.
    await zone.fill("US/Eastern")
    await page.get_by_role("button", name="Save the settings").click()
    await expect(page.locator("#timezone-error")).to_contain_text("Choose a time zone from the list")
    await check_page(page, "city-settings-zone-refused")
    # Typing narrows the list; the person picks São Paulo's entry.
    await zone.fill("São")
    await zone.fill(await page.locator("#timezone-zones option[value^='São Paulo']").get_attribute("value"))
    await page.get_by_label("Language of the city's mail and report").select_option("pt")
    await page.get_by_role("button", name="Save the settings").click()
    await page.wait_for_url("**/portal/home?done=city_saved")
    await expect(page.get_by_text("The city's settings are saved.")).to_be_visible()
    await expect(page.get_by_text("São Paulo (Brasilia Time, UTC−03:00)")).to_be_visible()
    await expect(page.get_by_text("Portuguese", exact=True)).to_be_visible()
    # The page itself stays in the reader's language, with the site's language switcher.
    await page.goto("/portal/city")
    await expect(page.get_by_label("Time zone")).to_have_value("São Paulo (Brasilia Time, UTC−03:00)")
    await expect(page.locator("html")).to_have_attribute("lang", "en")

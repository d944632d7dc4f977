"""The auditors' whole journey in Chromium against all five services: an auditor claims a
submitted case, changes three responses with reason codes and explanations (one with the
keyboard only, looking at the PDF and the image in the page), runs a clarification round
that the city answers through its portal, a second auditor returns the review once and
then approves it, and the workflow moves on to scoring with the final responses: the
city's score reflects the changes. Then the console's other pages, in every language."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from devtools.harness import Stack, serve
from services.audit.models import ReviewCase
from services.audit.console.trail_text import criterion_title
from services.intake.config import IntakeOptions
from shared.catalog.loader import load_catalog
from shared.infra.auth import Role
from certification.contract import CertificationStatus, Query, Stage, certification_workflow_id
from shared.infra.settings import SERVICES
from shared.scoring.engine import score
from tests.conftest import token
from tests.audit.browser import CYCLE, LAUNCH_ARGS, Consoles, check_page
from tests.infra.test_consumer import eventually
from tests.portal.conftest import minimal_pdf, minimal_png, serialized_migrations

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

CATALOG = load_catalog("wwc-2019")
ANSWERS = {c.id: ("NO" if i % 9 == 8 else "IN_PROGRESS" if i % 7 == 6 else "YES")
           for i, c in enumerate(CATALOG.criteria)}
FILES = {"DG1": ("data-inventory.pdf", minimal_pdf("Data inventory 2019")),
         "DG2": ("governance-roster.png", minimal_png(40, 20))}
# The auditor's three changes: (response, reason label, reason id, explanation, what would satisfy)
CHANGES = {
    "DG1": ("IN_PROGRESS", "Outdated evidence", "outdated_evidence",
            "The inventory submitted dates from 2019; the criterion asks for one updated yearly.",
            "An inventory updated in the last 12 months."),
    "DG2": ("NO", "Requirement not met", "requirement_not_met",
            "The roster names no data governance lead.", "A roster that names the governance lead."),
    "GM1": ("IN_PROGRESS", "Still in development", "still_in_development",
            "The goals are drafted but not adopted by the council.", "The goals, adopted."),
}
def criterion_label(cid: str, lang: str = "en") -> str:
    return f"{cid} — {CATALOG.text(CATALOG.criterion(cid), lang)}"


FINAL = {**ANSWERS, **{cid: change[0] for cid, change in CHANGES.items()}}


@pytest.fixture(scope="module")
async def consoles(chromium, module_infra, tmp_path_factory):
    from playwright.async_api import async_playwright

    tmp = tmp_path_factory.mktemp("audit-console")
    stack = Stack(infra=module_infra, backend="sqlite", tmp=tmp, services=SERVICES,
                  build_kwargs={"intake": {"options": IntakeOptions(review_mode="auditor")}})
    with serialized_migrations():
        await stack.start()
    audit_url, audit_server, audit_task = await serve(stack.apps["audit"])
    portal_url, portal_server, portal_task = await serve(stack.apps["intake"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    consoles = Consoles(stack=stack, audit_url=audit_url, portal_url=portal_url, browser=browser, tmp=tmp)
    try:
        yield consoles
    finally:
        for context in consoles.contexts:
            await context.close()
        await browser.close()
        await playwright.stop()
        for server in (audit_server, portal_server):
            server.should_exit = True
        await audit_task
        await portal_task
        await stack.stop()


async def submitted_city(consoles: Consoles, name: str = "Springfield") -> dict:
    """A city registered, answered and submitted through intake's API (fast set-up)."""
    slug = name.lower()
    body = await consoles.stack.register_city({
        "name": name, "state": "IL", "country": "US", "population": 116_250, "contact_name": "Jordan Lee",
        "contact_email": f"jordan@{slug}.gov", "password": "correct-horse-battery"})
    token = body["token"]["access_token"]
    async with consoles.api("intake", token) as client:
        r = await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": {q.id: True for q in CATALOG.snapshot}})
        assert r.status_code == 201, r.text
        assert (await client.post(f"/api/v1/assessments/{CYCLE}")).status_code == 201
        responses = {cid: {"response": a, "narrative": f"{name} on {cid}: see the evidence.",
                           "links": [f"https://data.{slug}.gov/{cid.lower()}"] if a == "YES" and cid not in FILES
                           else []} for cid, a in ANSWERS.items()}
        r = await client.put(f"/api/v1/assessments/{CYCLE}/responses", json={"responses": responses})
        assert r.status_code == 200, r.text
        for cid, (filename, content) in FILES.items():
            r = await client.post(f"/api/v1/assessments/{CYCLE}/criteria/{cid}/files",
                                  files={"file": (filename, content, "application/octet-stream")})
            assert r.status_code == 201, r.text
        r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
        assert r.status_code == 201, r.text
        sid = r.json()["id"]

    async def received():
        async with consoles.stack.runtimes["audit"].db.sessionmaker() as session:
            case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == sid))
        return case if case is not None and case.received_at is not None else None

    await eventually(received, timeout=60, interval=0.2)
    return {"token": token, "submission_id": sid, "name": name}


async def decide_with_mouse(page, cid: str) -> None:
    response, reason, _, why, satisfy = CHANGES[cid]
    label = {"YES": "Yes", "IN_PROGRESS": "In progress", "NO": "No"}[response]
    await page.get_by_label(label, exact=True).check()
    await page.get_by_label("Reason for a change").select_option(label=reason)
    await page.get_by_label("Explanation for the city").fill(why)
    await page.get_by_label("What would satisfy it").fill(satisfy)


async def case_status(page, url: str, status: str, timeout: float = 60) -> None:
    deadline = datetime.now() + timedelta(seconds=timeout)
    while True:
        await page.goto(url)
        if (await page.locator("#case-status").inner_text()).strip() == status:
            return
        if datetime.now() > deadline:
            raise AssertionError(f"the case never showed {status!r}")
        await page.wait_for_timeout(300)


async def portal_stage(page, stage: str, timeout: float = 90) -> None:
    deadline = datetime.now() + timedelta(seconds=timeout)
    while True:
        await page.goto("/portal/submission")
        if (await page.locator("#current-stage").inner_text()).strip() == stage:
            return
        if datetime.now() > deadline:
            raise AssertionError(f"the portal never showed {stage!r}")
        await page.wait_for_timeout(300)


STILL_OUTDATED = "The 2026 inventory is a draft without a date: the evidence is still outdated."

async def test_two_auditors_review_a_case_with_the_city_to_an_approved_score(consoles):
    await consoles.staff("ana@auditors.wwc.org", "Ana Auditor")
    await consoles.staff("ben@auditors.wwc.org", "Ben Auditor")
    city = await submitted_city(consoles)
    sid = city["submission_id"]
    case_url = f"/audit/cases/{sid}"

    # --- Ana claims the case from the queue ----------------------------------------------------
    ana = await consoles.person(consoles.audit_url)
    await consoles.sign_in(ana, "ana@auditors.wwc.org")
    await expect(ana.get_by_role("heading", name="Review queue")).to_be_visible()
    row = ana.locator(f"#case-{sid}")
    await expect(row).to_contain_text("Springfield")
    await expect(row).to_contain_text("Waiting in the queue")
    await check_page(ana, "queue")
    await ana.get_by_role("button", name="Claim Springfield").click()
    await ana.wait_for_url(f"**{case_url}?done=claimed")
    await expect(ana.get_by_role("status")).to_contain_text("The case is yours")
    await expect(ana.locator("#case-holder")).to_have_text("Ana Auditor")
    await check_page(ana, "case")

    # --- DG1: the PDF is shown in the page; the response is changed -----------------------------
    await ana.get_by_role("link", name="Start with the first undecided criterion").click()
    await ana.wait_for_url(f"**{case_url}/criteria/DG1")
    await expect(ana.locator("#narrative-submitted")).to_have_text("Springfield on DG1: see the evidence.")
    frame = ana.locator("iframe.preview-pdf")
    await expect(frame).to_have_attribute("title", "Preview of data-inventory.pdf")
    served = await ana.request.get(await frame.get_attribute("src"))
    assert served.ok and served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("inline") and await served.body() == FILES["DG1"][1]
    await check_page(ana, "criterion")
    # Where explanations are written, the language the city reads them in.
    await expect(ana.get_by_text("The city reads its report in English: write the explanation in English.")
                 ).to_be_visible()
    await decide_with_mouse(ana, "DG1")
    await ana.get_by_role("button", name="Save and next").click()
    await ana.wait_for_url(f"**{case_url}/criteria/DG2?done=saved_previous")

    # --- DG2: the image is shown; the decision is made with the keyboard only --------------------
    image = ana.locator("img.preview-image")
    await expect(image).to_have_attribute("alt", "Preview of governance-roster.png")
    # The preview loads after the page (on a busy machine, noticeably): wait for it, then measure.
    await ana.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=await image.element_handle())
    assert await image.evaluate("img => img.naturalWidth") == 40
    await ana.get_by_role("link", name="Go to the decision").focus()
    await ana.keyboard.press("Enter")
    await ana.keyboard.press("Tab")            # the checked radio: Yes (as submitted)
    await ana.keyboard.press("ArrowDown")      # In progress
    await ana.keyboard.press("ArrowDown")      # No
    await ana.keyboard.press("Tab")            # the reason
    await ana.keyboard.type("Requirement")
    await ana.keyboard.press("Tab")            # the explanation
    await ana.keyboard.type(CHANGES["DG2"][3])
    await ana.keyboard.press("Tab")            # what would satisfy it
    await ana.keyboard.type(CHANGES["DG2"][4])
    await ana.keyboard.press("Tab")            # Save and next
    await ana.keyboard.press("Enter")
    await ana.wait_for_url(f"**{case_url}/criteria/DG3?done=saved_previous")
    await ana.goto(f"{case_url}/criteria/DG2")
    await expect(ana.get_by_label("No", exact=True)).to_be_checked()
    await expect(ana.get_by_label("Reason for a change")).to_have_value("requirement_not_met")

    # --- GM1: a change without its reasons is refused, field by field ---------------------------
    await ana.goto(f"{case_url}/criteria/GM1")
    await ana.get_by_label("In progress", exact=True).check()
    await ana.get_by_role("button", name="Save", exact=True).click()
    await expect(ana.locator("#error-summary")).to_contain_text("Choose the reason for the change")
    await expect(ana.locator("#explanation-error")).to_have_text("Error: Explain the change to the city")
    await check_page(ana, "criterion-errors")
    await decide_with_mouse(ana, "GM1")
    await ana.get_by_role("button", name="Save", exact=True).click()
    await ana.wait_for_url(f"**{case_url}/criteria/GM1?done=saved")

    # --- a clarification round, answered by the city through its portal --------------------------
    await ana.goto(case_url)
    await ana.get_by_role("link", name="Clarification").click()
    # The flagged criteria are proposed, each named by its id and its text.
    await expect(ana.get_by_label(criterion_label("DG1"), exact=True)).to_be_checked()
    for cid in ("DG2", "GM1"):
        await ana.get_by_label(criterion_label(cid), exact=True).uncheck()
    await ana.get_by_label(criterion_label("OD3"), exact=True).check()
    await ana.get_by_label("What the city should send or explain").fill(
        "Please send the data inventory updated this year, and the open data portal's usage report.")
    await check_page(ana, "clarification-form")
    await ana.get_by_role("button", name="Send the request").click()
    await ana.wait_for_url(f"**{case_url}/clarification?done=round_requested")
    await expect(ana.locator("#case-status")).to_have_text("In clarification")

    city_page = await consoles.person(consoles.portal_url, token=city["token"])
    await portal_stage(city_page, "Clarification requested")
    await expect(city_page.get_by_text("Please send the data inventory updated this year")).to_be_visible()
    await city_page.get_by_role("link", name="Answer the request").click()
    await city_page.get_by_label("File for DG1").set_input_files(
        str(consoles.file("inventory-2026.pdf", minimal_pdf("Inventory 2026"))))
    await city_page.locator("form:has(#file-DG1)").get_by_role("button", name="Upload the file").click()
    await expect(city_page.get_by_role("status")).to_have_text("The file is uploaded.")
    await city_page.get_by_label("New narrative for DG1").fill("The 2026 inventory is attached; it is updated yearly.")
    await city_page.get_by_label("New narrative for OD3").fill("The usage report is published with the portal.")
    await city_page.get_by_role("button", name="Send the answer").click()
    await city_page.wait_for_url("**/portal/submission?done=clarification_answered")

    await case_status(ana, case_url, "Under review")
    await ana.goto(f"{case_url}/criteria/DG1")
    await expect(ana.locator("#narrative-round-1")).to_have_text("The 2026 inventory is attached; it is updated yearly.")
    await expect(ana.locator("#narrative-submitted")).to_have_text("Springfield on DG1: see the evidence.")
    new_file = ana.locator(".evidence-item.new")
    await expect(new_file).to_contain_text("inventory-2026.pdf")
    await expect(new_file).to_contain_text("New in round 1")
    await check_page(ana, "criterion-after-round")
    await ana.goto(f"{case_url}/clarification")
    await expect(ana.locator("#round-1")).to_contain_text("Answered")
    await check_page(ana, "clarification-answered")

    # --- the answer changed DG1 since Ana decided it: she confirms it with a note; OD3, answered
    # in the round, is decided on its own (the bulk confirmation leaves it alone) --------------
    await ana.goto(f"{case_url}/criteria/DG1")
    await expect(ana.locator("#changed-since-decided")).to_contain_text("Changed since decided")
    await ana.get_by_label("Why the decision stands").fill(STILL_OUTDATED)
    await ana.get_by_role("button", name="Confirm the decision with this note").click()
    await ana.wait_for_url(f"**{case_url}/criteria/DG1?done=reconfirmed")
    await expect(ana.locator("#decision-note")).to_contain_text(STILL_OUTDATED)
    await ana.goto(f"{case_url}/criteria/OD3")
    await ana.get_by_role("button", name="Save", exact=True).click()
    await ana.wait_for_url(f"**{case_url}/criteria/OD3?done=saved")

    # --- the rest confirmed, submitted for sign-off -------------------------------------------
    await ana.goto(case_url)
    await ana.get_by_role("button", name="Confirm the 41 remaining as submitted").click()
    await expect(ana.get_by_role("status")).to_contain_text("confirmed as submitted")
    await ana.get_by_role("link", name="Sign-off", exact=True).click()
    await ana.get_by_role("button", name="Submit for sign-off").click()
    await ana.wait_for_url(f"**{case_url}/signoff?done=signoff_requested")
    await expect(ana.get_by_text("Four eyes")).to_be_visible()  # she cannot approve her own review

    # --- Ben returns it once with comments ----------------------------------------------------
    ben = await consoles.person(consoles.audit_url)
    await consoles.sign_in(ben, "ben@auditors.wwc.org")
    await ben.get_by_role("link", name="Awaiting sign-off").click()
    await ben.get_by_role("link", name="Springfield", exact=True).click()
    await ben.get_by_role("link", name="Sign-off", exact=True).click()
    changes = ben.locator("#changes tbody tr")
    await expect(changes).to_have_count(3)
    await expect(ben.locator("#changes")).to_contain_text("The evidence is older than the time period")
    await expect(ben.locator("#changes")).to_contain_text(CHANGES["GM1"][4])
    await expect(ben.locator("#reconfirmed")).to_contain_text(STILL_OUTDATED)  # what changed, and why it stands
    await check_page(ben, "signoff-second-auditor")
    await ben.get_by_role("button", name="Return with comments").click()
    await expect(ben.locator("#comments-error")).to_have_text("Error: Write what the reviewer should look at again")
    await ben.get_by_label("Comments for the reviewer").fill("DG2: say which roster page you looked at.")
    await ben.get_by_role("button", name="Return with comments").click()
    await ben.wait_for_url(f"**{case_url}/signoff?done=returned")

    # --- Ana sees it returned in her cases, answers the comments and submits again ------------
    await ana.goto("/audit/queue?assignee=me")
    await expect(ana.get_by_role("row").filter(has_text="Returned from sign-off")).to_have_count(1)
    await ana.goto(case_url)
    await expect(ana.locator("#returned-notice")).to_contain_text("DG2: say which roster page you looked at.")
    await ana.goto(f"{case_url}/criteria/DG2")
    await ana.get_by_label("Explanation for the city").fill(
        CHANGES["DG2"][3] + " Page 2 of the roster lists the members only.")
    await ana.get_by_role("button", name="Save", exact=True).click()
    await ana.wait_for_url(f"**{case_url}/criteria/DG2?done=saved")
    await ana.goto(f"{case_url}/signoff")
    await ana.get_by_role("button", name="Submit for sign-off").click()
    await ana.wait_for_url(f"**{case_url}/signoff?done=signoff_requested")

    await ben.goto(f"{case_url}/signoff")
    await expect(ben.locator("#changes")).to_contain_text("Page 2 of the roster")
    digest = (await ben.locator("#decisions-hash").inner_text()).strip()
    await ben.get_by_role("button", name="Approve the review").click()
    await ben.wait_for_url(f"**{case_url}/signoff?done=approved")
    await expect(ben.locator("#approved")).to_contain_text("Approved by Ben Auditor")
    await expect(ben.locator("#approved")).to_contain_text(digest)
    await check_page(ben, "signoff-approved")

    # --- the workflow moves on to scoring with the final responses ----------------------------
    temporal = consoles.stack.runtimes["intake"].temporal_client
    handle = temporal.get_workflow_handle(certification_workflow_id(sid))

    async def scored():
        s = await handle.query(Query.STATUS, result_type=CertificationStatus)
        return s if s.score is not None else None

    status = await eventually(scored, timeout=120, interval=0.5)
    assert Stage.SCORING in [h.stage for h in status.history]
    assert status.answered_clarifications and status.open_clarifications == []
    expected, as_submitted = score(CATALOG, FINAL), score(CATALOG, ANSWERS)
    assert (status.score.met, status.score.percent) == (expected.met, expected.percent)
    assert expected.met < as_submitted.met  # the audit's changes cost the city points
    await portal_stage(city_page, "Debrief offered", timeout=120)
    await expect(city_page.get_by_text(f"{expected.met} of 45 criteria met")).to_be_visible()

    # The trail holds every step, intact.
    await ana.goto(f"{case_url}/trail")
    await expect(ana.locator("#verification")).to_contain_text("is intact")
    # In sentences: people's names, criterion titles, answers and reason names in words.
    trail_lines = ana.locator("ol.trail-lines")
    dg2 = criterion_title(CATALOG, "DG2", "en")
    for sentence in ("Ana Auditor took the case.", f"Ana Auditor changed DG2 “{dg2}” from Yes to No.",
                     "Reason: Requirement not met", "Ana Auditor asked the city for clarification (round 1)",
                     "answered clarification round 1", "Ben Auditor returned the review to its auditor.",
                     "Ben Auditor approved the review (sign-off)."):
        await expect(trail_lines).to_contain_text(sentence)
    await check_page(ana, "trail")
    await ana.goto(f"{case_url}/trail?lang=es")
    await expect(trail_lines).to_contain_text(f"Ana Auditor cambió DG2 «{criterion_title(CATALOG, 'DG2', 'es')}» de Sí a No.")
    await check_page(ana, "trail-es")


@pytest.mark.parametrize("locale", ["es-ES", "pt-BR"])
async def test_the_console_speaks_spanish_and_portuguese(consoles, locale):
    email = f"cleo-{locale.lower()}@auditors.wwc.org"
    await consoles.staff(email, "Cleo Auditora")
    city = await submitted_city(consoles, "Riverton" if locale == "es-ES" else "Lakeside")
    page = await consoles.person(consoles.audit_url, locale=locale)
    await page.goto("/audit/sign-in")
    lang = locale[:2]
    await page.locator("#email").fill(email)
    await page.locator("#password").fill("correct-horse-battery")
    await page.locator("form button[type=submit]").last.click()
    await page.wait_for_url(re.compile(r".*/audit/queue.*"))
    heading = {"es": "Cola de revisión", "pt": "Fila de análise"}[lang]
    await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == lang
    await check_page(page, f"queue-{lang}")
    sid = city["submission_id"]
    await page.goto(f"/audit/cases/{sid}")
    place = {"es": "Illinois, Estados Unidos · Medio Oeste (EE. UU.)", "pt": "Illinois, Estados Unidos · Meio-Oeste (EUA)"}[lang]
    await expect(page.locator("#case-facts")).to_contain_text(place)
    await check_page(page, f"case-{lang}")
    await page.goto(f"/audit/cases/{sid}/criteria/DG1")
    await expect(page.locator("#criterion-text")).to_have_text(CATALOG.text(CATALOG.criterion("DG1"), lang))
    await check_page(page, f"criterion-{lang}")
    for tail in ("/clarification", "/calls", "/signoff", "/trail"):
        await page.goto(f"/audit/cases/{sid}{tail}")
        await check_page(page)

    # A review another auditor submitted (through the API) waits for Cleo's sign-off, in her language.
    dora = await consoles.staff(f"dora-{lang}@auditors.wwc.org", "Dora Auditora")
    other = (await submitted_city(consoles, "Fairview" if lang == "es" else "Oakdale"))["submission_id"]
    async with consoles.api("audit", token(Role.AUDITOR, sub=dora)) as client:
        assert (await client.post(f"/api/v1/cases/{other}/claim")).status_code == 200
        response, _, reason, why, satisfy = CHANGES["DG1"]
        r = await client.put(f"/api/v1/cases/{other}/decisions/DG1", json={
            "response": response, "reason_code": reason, "explanation": why, "what_would_satisfy": satisfy,
            "version": 0})
        assert r.status_code == 200, r.text
        assert (await client.post(f"/api/v1/cases/{other}/decisions/confirm-remaining")).status_code == 200
        assert (await client.post(f"/api/v1/cases/{other}/signoff/request")).status_code == 200
    await page.goto(f"/audit/cases/{other}/signoff")
    await expect(page.locator("#changes tbody tr")).to_have_count(1)
    reason_text = {"es": "La evidencia es anterior", "pt": "As evidências são anteriores"}[lang]
    await expect(page.locator("#changes")).to_contain_text(reason_text)
    await check_page(page, f"signoff-{lang}")
    # A conflict with Illinois: the queue says why the case cannot be taken; withdrawn, it can.
    await page.goto("/audit/conflicts")
    await page.locator("#scope-state").check()
    await page.locator("#state").select_option(label="Illinois")  # the list's code names the country
    await page.locator("#reason").fill("Family in the state government.")
    await page.locator("form.card button[type=submit]").click()
    await page.wait_for_url("**/audit/conflicts?done=conflict_declared")
    await expect(page.locator("#my-conflicts")).to_contain_text("Illinois (US-IL)")
    await check_page(page, f"conflicts-{lang}")
    await page.goto("/audit/queue")
    await expect(page.locator(f"#conflict-{sid}")).to_contain_text("Illinois (US-IL)")
    await expect(page.locator(f"#case-{sid} form")).to_have_count(0)  # no claim button
    await page.goto(f"/audit/cases/{sid}")
    await expect(page.locator("#conflict-notice")).to_contain_text("Illinois (US-IL)")
    await page.goto("/audit/conflicts")
    await page.locator("#my-conflicts button").click()
    await page.wait_for_url("**/audit/conflicts?done=conflict_withdrawn")
    await page.goto("/audit/queue")
    await expect(page.locator(f"#case-{sid} form")).to_have_count(1)


async def test_a_manager_assigns_cases_by_workload_and_sees_the_balance(consoles):
    await consoles.staff("eve@auditors.wwc.org", "Eve Manager")
    cities = [await submitted_city(consoles, name) for name in ("Brookfield", "Clearwater")]
    page = await consoles.person(consoles.audit_url)
    await consoles.sign_in(page, "eve@auditors.wwc.org")
    await page.goto("/audit/queue?assignee=none")
    for city in cities:
        await page.get_by_label(f"Select {city['name']}").check()
    await page.get_by_role("button", name="Assign by workload").click()
    await page.wait_for_url("**/audit/queue?done=auto_assigned")
    await expect(page.get_by_role("status")).to_contain_text("fewest open cases")
    for city in cities:  # each now held by someone
        await expect(page.locator(f"#case-{city['submission_id']} td").nth(4)).not_to_have_text("—")
    work = page.locator("#workload")
    await expect(work.get_by_role("heading", name="Auditors' work")).to_be_visible()
    await expect(work.get_by_role("row").filter(has_text="Eve Manager")).to_be_visible()
    await check_page(page, "queue-workload")

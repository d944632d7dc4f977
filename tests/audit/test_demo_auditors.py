"""`make run`'s scripted auditors and cities (devtools/demo.py) against all five services
served over HTTP: after they played, the review console shows cases in every state, the
cases sent to sign-off were reviewed blind a second time (as `make run` samples every case)
with their differences resolved at sign-off, the calibration page shows the agreement
figures a recomputation from the stored decisions gives, one approved city has booked its
debrief call and the other declined it (its certification completes), and playing again (a
restart of `make run`) changes nothing."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import select

from devtools import demo
from devtools.harness import Stack, serve
from services.audit.config import AuditOptions
from services.audit.models import Resolution, ReviewCase
from services.intake.config import IntakeOptions
from shared.infra.auth import COOKIE, Role
from shared.infra.settings import SERVICES
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.intake.helpers import draft, fill_bulk

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.fixture
async def served(infra, tmp_path):
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=SERVICES,
                  build_kwargs={"intake": {"options": IntakeOptions(review_mode="auditor")},
                                # as `make run` (the Makefile): every case in the double-review sample
                                "audit": {"options": AuditOptions(double_review_share=1.0)}})
    await stack.start()
    servers = {name: await serve(stack.apps[name]) for name in ("intake", "audit", "notify", "reporting")}
    yield stack, {name: url for name, (url, _, _) in servers.items()}
    for _, server, task in servers.values():
        server.should_exit = True
        await task
    await stack.stop()


async def test_the_scripted_auditors_leave_cases_in_every_state(served, chromium):
    stack, urls = served
    from services.intake import accounts

    async with stack.runtimes["intake"].db.transaction() as session:
        for email, name, role in demo.STAFF:
            await accounts.create_staff_user(session, email=email, name=name, password=demo.DEMO_PASSWORD, role=role)
    submissions, tokens = {}, {}
    for name, state, country, population in demo.DEMO_CITIES:
        client, _ = await draft(stack, name, state=state, country=country, population=population)
        tokens[name] = client.headers["authorization"].split()[1]
        await fill_bulk(client)
        r = await client.post("/api/v1/assessments/2026/submit")
        assert r.status_code == 201, r.text
        submissions[name] = r.json()["id"]

    async with httpx.AsyncClient(timeout=30) as client:
        await demo.play_auditors(client, urls, submissions, tokens)
        states = await case_states(stack)
        assert states == Counter({"queued": 5, "in_review": 3, "clarification": 1, "signoff": 1, "completed": 2})
        await demo.play_auditors(client, urls, submissions, tokens)  # make run again
        assert await case_states(stack) == states
    async with stack.runtimes["audit"].db.sessionmaker() as session:
        returned = await session.scalar(select(ReviewCase).where(
            ReviewCase.submission_id == submissions[demo.DEMO_CITIES[10][0]]))
    assert returned.status == "in_review" and returned.reviewer_id is not None  # back from sign-off with comments
    await the_double_reviewed_cases_are_resolved_and_measured(stack, urls, submissions)
    # The city answered a question about a criterion Ana had decided: the sign-off page says so.
    answered = submissions[demo.DEMO_CITIES[5][0]]
    async with httpx.AsyncClient(timeout=30) as client:
        signoff = (await client.get(f"{urls['audit']}/api/v1/cases/{answered}/signoff", headers={
            "authorization": f"Bearer {token(Role.AUDITOR, sub='auditor-9')}"})).json()
    [changed] = signoff["changed_since_decided"]
    assert changed["changes"][0]["narrative"].startswith("The policy was adopted by the council")

    async def moved_on():  # the approved reviews reach scoring (the workflow got the signal)
        states = await workflow_stages(stack, [submissions[demo.DEMO_CITIES[i][0]] for i in (8, 9)])
        return states if all(s not in ("in_review", "clarification") for s in states) else None

    await eventually(moved_on, timeout=90, interval=0.5)

    booker, decliner = (submissions[demo.DEMO_CITIES[i][0]] for i in demo.DEBRIEFS)
    async with httpx.AsyncClient(timeout=30) as client:
        await demo.play_debriefs(client, urls, submissions, tokens)
        await demo.play_debriefs(client, urls, submissions, tokens)  # make run again: still one booking
        slots = (await client.get(f"{urls['notify']}/api/v1/slots", headers={
            "authorization": f"Bearer {tokens[demo.DEMO_CITIES[8][0]]}"})).json()
    assert len(slots) == 2  # three published, one booked
    status = await workflow_status(stack, booker)
    assert status.stage.value == "debrief" and status.debrief_starts_at is not None
    assert status.waiting_for == "debrief call"

    async def completed():
        status = await workflow_status(stack, decliner)
        return status if status.stage.value == "completed" else None

    assert (await eventually(completed, timeout=60, interval=0.5)).debrief_outcome == "declined"

    # The city that declined appeals a finding; Dev overturns it, Eva signs off; the report
    # is reissued as version 2, which replaces version 1.
    assert decliner == submissions[demo.DEMO_CITIES[demo.APPEALING][0]]
    async with httpx.AsyncClient(timeout=30) as client:
        await demo.play_appeal(client, urls, submissions, tokens)
        await demo.play_appeal(client, urls, submissions, tokens)  # make run again: one appeal

    async def reissued():
        status = await workflow_status(stack, decliner)
        return status if status.report_version == 2 and status.stage.value == "completed" else None

    status = await eventually(reissued, timeout=180, interval=0.5)
    [decision] = status.appeal_decided.decisions
    assert decision.outcome == "overturned" and decision.reason_code == demo.APPEAL_DECISION[0]
    city = {"authorization": f"Bearer {tokens[demo.DEMO_CITIES[demo.APPEALING][0]]}"}
    async with httpx.AsyncClient(base_url=f"{urls['reporting']}/api/v1", timeout=30) as reporting:
        versions = (await reporting.get(f"/reports/by-submission/{decliner}/versions", headers=city)).json()
        assert [v["version"] for v in versions] == [1, 2], versions
        assert versions[1]["replaces_id"] == versions[0]["id"]
        if versions[0]["verification_code"]:  # a certified version 1 verifies as superseded
            old = (await reporting.get(f"/verify/{versions[0]['verification_code']}")).json()
            assert old["current"] is False and old["superseded_by_version"] == 2, old

    # Every page of every console a person can reach in this world, in every language.
    async with httpx.AsyncClient(timeout=30) as client:
        staff = {role: await demo.sign_in(client, urls["intake"], email) for email, _, role in demo.STAFF[:2]}
    people = [
        (tokens[demo.DEMO_CITIES[8][0]], [f"{urls['intake']}/portal/", f"{urls['notify']}/booking/",
                                          f"{urls['reporting']}/reports/"]),
        (tokens[demo.DEMO_CITIES[demo.APPEALING][0]], [f"{urls['intake']}/portal/", f"{urls['reporting']}/reports/"]),
        (staff[Role.AUDITOR], [f"{urls['audit']}/audit/queue", f"{urls['audit']}/audit/appeals", f"{urls['notify']}/slots/",
                               f"{urls['reporting']}/programme"]),
        (staff[Role.OPERATOR], [f"{urls['reporting']}/operator/"]),
        (None, [f"{urls['reporting']}/verify", f"{urls['reporting']}/roster"]),
    ]
    await every_page_reads_well(chromium, people)


async def the_double_reviewed_cases_are_resolved_and_measured(stack, urls: dict[str, str],
                                                              submissions: dict[str, str]) -> None:
    from tests.audit.test_calibration_api import stored_pairs
    from tests.unit.test_calibration import kappa_by_hand

    sid = {i: submissions[demo.DEMO_CITIES[i][0]] for i in (7, 8, 9, 10)}
    async with stack.runtimes["audit"].db.sessionmaker() as session:
        cases = {c.submission_id: c for c in (await session.scalars(select(ReviewCase))).all()}
        resolutions = (await session.scalars(select(Resolution))).all()
    auditor = {"authorization": f"Bearer {token(Role.AUDITOR, sub='auditor-9')}"}
    async with httpx.AsyncClient(base_url=f"{urls['audit']}/api/v1", timeout=60, headers=auditor) as audit:
        seconds = {i: (await audit.get(f"/cases/{s}/second-review")).json() for i, s in sid.items()}
        trail = (await audit.get(f"/cases/{sid[8]}/trail")).json()["records"]
        calibration = (await audit.get("/calibration")).json()
        auditors = {a["email"]: a["user_id"] for a in (await audit.get("/auditors")).json()}
    cleo, ben = auditors[demo.STAFF[3][0]], auditors[demo.STAFF[2][0]]
    # Every case sent to sign-off was reviewed blind by Cleo, who differs from Ana on two criteria.
    for i, second in seconds.items():
        assert second["double_review"] and second["second_reviewer_id"] == cleo and second["complete"], i
        assert second["disclosed"] and len(second["differences"]) == 2, (i, second["differences"])
    # Approved: Ben resolved both differences (one kept, one taken), recorded with his notes.
    for i in (8, 9):
        outcomes = sorted((d["outcome"], d["resolved_by"]) for d in seconds[i]["differences"])
        assert outcomes == [("keep_first", ben), ("take_second", ben)], (i, outcomes)
    [taken] = [d for d in seconds[8]["differences"] if d["outcome"] == "take_second"]
    assert cases[sid[8]].audited_responses[taken["criterion_id"]] == taken["second"] == "NO"
    assert {r.note for r in resolutions} == {note for _, note in demo.RESOLUTIONS.values()}
    assert {"second_review.assigned", "second_review.disclosed", "second_review.resolved"} <= \
        {r["action"] for r in trail}
    # Awaiting sign-off: the differences wait for their resolution.
    assert all(d["outcome"] is None for d in seconds[7]["differences"])
    # The calibration figures are real, and what the stored decisions give.
    stored = await stored_pairs(SimpleNamespace(runtime=stack.runtimes["audit"]))
    overall = next(r for r in calibration["rows"] if r["scope"] == "overall")
    assert calibration["cases"] == 4 and overall["pairs"] == len(stored)
    assert overall["kappa"] == pytest.approx(kappa_by_hand([(f, s) for *_, f, s in stored]), abs=1e-4)
    assert overall["kappa_ci"] is not None and overall["agreement"] < 1
    assert {r["key"] for r in calibration["rows"] if r["scope"] == "auditor"} >= {cleo}
    async with httpx.AsyncClient(timeout=60, cookies={COOKIE: token(Role.AUDITOR, sub="auditor-9")}) as client:
        page = (await client.get(f"{urls['audit']}/audit/calibration")).text
    assert "4 double-reviewed cases" in page and "Cleo Mendes" in page
    assert f'id="overall-kappa">{overall["kappa"]:.2f}'.rstrip("0").rstrip(".") in page


async def every_page_reads_well(chromium, people: list[tuple[str | None, list[str]]]) -> None:
    from playwright.async_api import async_playwright

    from tests.crawl import check_everywhere, reachable
    from tests.portal.conftest import LAUNCH_ARGS, check_page

    checked, routes = 0, set()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
        for bearer, starts in people:
            pages = []
            for start in starts:  # each console on its own origin, signed in there
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                context.set_default_timeout(20_000)
                if bearer:
                    await context.add_cookies([{"name": COOKIE, "value": bearer, "url": start, "httpOnly": True,
                                                "sameSite": "Lax"}])
                page = await context.new_page()
                found = await reachable(page, [start])
                pages += found
                checked += await check_everywhere(page, found, check_page)
                await context.close()
            routes |= set(pages)
            assert pages, starts
        await browser.close()
    assert checked >= 3 * 20, (checked, sorted(routes))  # a floor: the consoles have more pages than that


async def case_states(stack) -> Counter:
    async with stack.runtimes["audit"].db.sessionmaker() as session:
        return Counter((await session.scalars(select(ReviewCase.status))).all())


async def workflow_status(stack, submission_id: str):
    from certification.contract import CertificationStatus, Query, certification_workflow_id

    client = stack.runtimes["intake"].temporal_client
    return await client.get_workflow_handle(certification_workflow_id(submission_id)).query(
        Query.STATUS, result_type=CertificationStatus)


async def workflow_stages(stack, submission_ids: list[str]) -> list[str]:
    return [(await workflow_status(stack, sid)).stage.value for sid in submission_ids]


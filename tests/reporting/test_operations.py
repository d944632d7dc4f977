"""Operators follow every certification with all five services running: counts per stage
and cycle, what waits and for whom, a step that fails on bad data (visible, then retried
after the cause is fixed), a parked message of another service (visible, then replayed
from reporting), each submission's timeline — through the JSON API, `wwc ops` and the
operator console in Chromium, which updates itself as events arrive."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import expect

from devtools.harness import Stack, serve
from services import cli
from services.reporting.models import LedgerEntry
from services.scoring import main as scoring_main
from services.scoring import service as scoring_service
from shared.catalog import CatalogError
from shared.contracts.events import Subject
from shared.infra.auth import Role
from shared.infra.settings import SERVICES
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.intake.helpers import YES_ALL, fill_bulk
from tests.portal.conftest import (  # noqa: F401 - the module's browser and NATS
    LAUNCH_ARGS,
    check_page,
    chromium,
    module_infra,
    serialized_migrations,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CYCLE = "2026"
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "operator"
OPERATOR = token(Role.OPERATOR, sub="operator-1")


class Faults:
    """Faults an operator has to deal with, switched on and off by the tests: scoring's
    catalog missing from its deployment (bad data: the step fails at once), and a scoring
    consumer that cannot handle city events (they are parked after their retries)."""

    catalog_missing = False
    consumer_broken = False


@pytest.fixture(scope="module")
async def ops(module_infra, tmp_path_factory):  # noqa: F811
    load = scoring_service.load_catalog
    build = scoring_main.build

    def catalog(version):
        if Faults.catalog_missing:
            raise CatalogError(version, None, "not installed in this deployment")
        return load(version)

    async def city_directory(session, envelope):
        if Faults.consumer_broken:
            raise RuntimeError("the city directory table is missing")

    def build_with_directory(settings=None, **kwargs):
        runtime, app = build(settings, **kwargs)
        runtime.consume(Subject.CITY_REGISTERED, city_directory, name="scoring-city-directory")
        return runtime, app

    patch = pytest.MonkeyPatch()
    patch.setattr(scoring_service, "load_catalog", catalog)
    patch.setattr(scoring_main, "build", build_with_directory)
    stack = Stack(infra=module_infra, backend="sqlite", tmp=tmp_path_factory.mktemp("ops"), services=SERVICES)
    with serialized_migrations():
        await stack.start()
    base_url, server, task = await serve(stack.apps["reporting"])
    try:
        yield stack, base_url
    finally:
        server.should_exit = True
        await task
        await stack.stop()
        patch.undo()


async def submit(stack: Stack, name: str) -> str:
    slug = re.sub(r"[^a-z]", "", name.lower())
    body = await stack.register_city({"name": name, "state": "IL", "country": "US", "population": 116_250,
                                      "contact_name": f"{name} Data Office", "contact_email": f"data@{slug}.gov",
                                      "password": "correct-horse-battery"})
    async with stack.client("intake", body["token"]["access_token"]) as intake:
        assert (await intake.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": YES_ALL})).status_code == 201
        await fill_bulk(intake, CYCLE)
        r = await intake.post(f"/api/v1/assessments/{CYCLE}/submit")
        assert r.status_code == 201, r.text
        return r.json()["id"]


async def api(stack: Stack, path: str, method: str = "GET", bearer: str = OPERATOR):
    async with stack.client("reporting", bearer) as client:
        return await client.request(method, path)


async def pipeline_entry(stack: Stack, submission_id: str) -> dict | None:
    r = await api(stack, "/api/v1/ops/waiting?limit=500")
    return next((e for e in r.json() if e["submission_id"] == submission_id), None)


async def ops_cli(capsys, url: str, *argv: str) -> str:
    """`wwc ops ...` as an operator types it in a wide terminal (in a thread: the served app
    runs on this loop)."""
    os.environ["COLUMNS"] = "200"
    code = await asyncio.to_thread(cli.main, ["ops", "--url", url, "--token", OPERATOR, *argv])
    text = capsys.readouterr().out
    assert code == 0, text
    return text


async def test_operators_follow_a_certification_through_every_stage(ops, capsys):
    stack, url = ops
    sid = await submit(stack, "Springfield")

    async def in_debrief():
        entry = await pipeline_entry(stack, sid)
        return entry if entry and entry["stage"] == "debrief" else None

    entry = await eventually(in_debrief, timeout=120, interval=0.5)
    assert entry["city_name"] == "Springfield" and entry["cycle"] == CYCLE and entry["waiting_for"].startswith("city")
    counts = {(c["cycle"], c["stage"]): c["count"] for c in (await api(stack, "/api/v1/ops/status")).json()}
    assert counts[(CYCLE, "debrief")] >= 1

    # The timeline names every stage in order, from the events.
    body = (await api(stack, f"/api/v1/ops/submissions/{sid}/timeline")).json()
    stages = [e["params"]["status"] for e in body["events"] if e["key"] == "stage"]
    assert stages == ["evidence_check", "in_review", "scoring", "reporting", "debrief"]
    keys = [e["key"] for e in body["events"]]
    assert keys.index("submitted") < keys.index("scored") < keys.index("report_ready")

    # Temporal finds it by its search attributes, as the Temporal UI would.
    async def found():
        r = await api(stack, f"/api/v1/ops/workflows?stage=debrief&cycle={CYCLE}&city=Springfield")
        return [w for w in r.json() if w["submission_id"] == sid]

    [wf] = await eventually(found, timeout=30, interval=0.5)
    assert wf["stage"] == "debrief" and wf["cycle"] == CYCLE

    # The CLI says the same in readable tables.
    text = await ops_cli(capsys, url, "status")
    assert re.search(rf"{CYCLE}.*\d", text) and "debrief" in text
    text = await ops_cli(capsys, url, "timeline", sid)
    assert "Springfield" in text and "stage debrief" in text and "scored" in text
    text = await ops_cli(capsys, url, "stuck")
    assert "Springfield" in text

    await stack.finish_debrief(sid)
    await eventually(lambda: _stage_is(stack, sid, "completed"), timeout=60, interval=0.5)
    assert await pipeline_entry(stack, sid) is None  # no longer in flight
    r = await api(stack, "/api/v1/ops/status", bearer=token(Role.AUDITOR, sub="auditor-1"))
    assert r.status_code == 403  # operators only


async def _stage_is(stack: Stack, sid: str, stage: str) -> bool:
    r = await api(stack, f"/api/v1/ops/submissions/{sid}/timeline")
    return r.status_code == 200 and (r.json()["submission"] or {}).get("stage") == stage


async def test_a_step_that_gets_bad_data_fails_visibly_and_is_retried_after_the_fix(ops, capsys):
    stack, url = ops
    Faults.catalog_missing = True
    try:
        sid = await submit(stack, "Shelbyville")

        async def failing():
            body = (await api(stack, "/api/v1/ops/failing")).json()
            return next((s for s in body["steps"] if s["submission_id"] == sid), None)

        step = await eventually(failing, timeout=120, interval=0.5)
        assert step["stage"] == "scoring" and "scoring.score_submission" in step["failing"]
        assert "not installed" in step["failing"] and step["waiting_for"].startswith("operator")
        text = await ops_cli(capsys, url, "failing")
        assert "Shelbyville" in text and "not installed" in text
    finally:
        Faults.catalog_missing = False
    text = await ops_cli(capsys, url, "retry", sid)
    assert "run again" in text

    async def went_on():
        entry = await pipeline_entry(stack, sid)
        return entry if entry and entry["stage"] == "debrief" and not entry["failing"] else None

    await eventually(went_on, timeout=120, interval=0.5)
    lines = (await api(stack, f"/api/v1/ops/submissions/{sid}/timeline")).json()["events"]
    keys = [e["key"] for e in lines]
    assert keys.index("step_failed") < keys.index("step_retried") < keys.index("scored")
    assert next(e for e in lines if e["key"] == "step_retried")["actor_id"] == "operator-1"
    await stack.finish_debrief(sid)


async def test_a_parked_message_of_another_service_is_replayed_from_reporting(ops, capsys):
    stack, url = ops
    Faults.consumer_broken = True
    try:
        await stack.register_city({"name": "Ogdenville", "state": "IL", "country": "US", "population": 40_000,
                                   "contact_name": "Ogdenville Data Office", "contact_email": "data@ogdenville.gov",
                                   "password": "correct-horse-battery"})

        async def parked():
            rows = (await api(stack, "/api/v1/ops/parked")).json()
            return [p for p in rows if p["consumer"] == "scoring-city-directory"]

        [message] = await eventually(parked, timeout=60, interval=0.5)
        assert message["service"] == "scoring" and message["subject"] == Subject.CITY_REGISTERED
        assert "city directory table is missing" in message["error"]
        text = await ops_cli(capsys, url, "parked")
        assert "scoring-city-directory" in text
        # Still broken: the replay is tried, fails, and says so.
        await ops_cli(capsys, url, "replay", message["event_id"], "--no-wait")
        await eventually(lambda: _last_replay_failed(stack, message["event_id"]), timeout=60, interval=0.5)
    finally:
        Faults.consumer_broken = False
    text = await ops_cli(capsys, url, "replay", message["event_id"], "--wait", "60")
    assert "Replayed" in text
    assert await parked() == []
    r = await api(stack, f"/api/v1/ops/parked/{message['event_id']}/replay", method="POST")
    assert r.status_code == 404 and r.json()["code"] == "not_found"  # nothing left to replay


async def _last_replay_failed(stack: Stack, event_id: str) -> bool:
    rows = (await api(stack, "/api/v1/ops/parked")).json()
    return any(p["event_id"] == event_id and p["last_replay"].startswith("failed") for p in rows)


async def test_bad_input_is_a_problem_with_the_field(ops):
    stack, _ = ops
    r = await api(stack, "/api/v1/ops/waiting?older_than=a-week")
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    assert r.json()["errors"][0]["field"] == "older_than"
    r = await api(stack, "/api/v1/ops/submissions/no-such-submission/timeline")
    assert r.status_code == 404
    r = await api(stack, "/api/v1/ops/submissions/no-such-submission/retry-step", "POST")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    # A submission whose steps all went well has nothing to retry: a conflict, not a retry.
    sid = await submit(stack, "Elgin")
    await eventually(lambda: pipeline_entry(stack, sid), timeout=60, interval=0.5)
    r = await api(stack, f"/api/v1/ops/submissions/{sid}/retry-step", "POST")
    assert r.status_code == 409 and r.json()["code"] == "no_failed_step"


# --- the console in Chromium ------------------------------------------------------------------


async def check(page, name: str) -> None:
    await check_page(page, name, results=RESULTS)


async def test_the_operator_console_updates_live_and_acts(ops, chromium):  # noqa: F811
    from playwright.async_api import async_playwright

    stack, base_url = ops
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    try:
        context = await browser.new_context(base_url=base_url, locale="en-GB", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        await context.add_cookies([{"name": "wwc_token", "value": OPERATOR, "url": base_url, "httpOnly": True,
                                    "sameSite": "Lax"}])
        page = await context.new_page()
        await page.goto("/operator/")
        await expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
        await expect(page.locator("#live-bar[data-ready=true]")).to_have_count(1)  # the live script runs
        await check(page, "overview")
        # Times in the operator's own zone once they chose one (intake announces it).
        async with stack.runtimes["reporting"].db.transaction() as session:
            session.add(LedgerEntry(event_id=str(uuid.uuid4()), subject=Subject.USER_UPDATED,
                                    occurred_at=datetime.now(UTC), payload={
                                        "user_id": "operator-1", "email": "op@wwc.test", "role": "operator",
                                        "timezone": "America/Chicago"}))
        await page.goto("/operator/")
        await expect(page.locator("#live-status")).to_contain_text("(Chicago)")

        # A city submits while the page is open: the panels show it without a reload.
        Faults.catalog_missing = True
        try:
            sid = await submit(stack, "Capital City")
            failing = page.locator("#panel-failing")
            await expect(failing.get_by_role("link", name="Capital City")).to_be_visible(timeout=90_000)
            # The live status names the time in the operator's zone too, as the server does.
            await expect(page.locator("#live-status")).to_contain_text(re.compile(r"Updated at .*\(Chicago\)"))
            await check(page, "overview-failing")
        finally:
            Faults.catalog_missing = False
        # The keyboard reaches the retry button; the workflow goes on.
        await failing.get_by_role("button", name=re.compile("Retry the step")).focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status").filter(has_text="will run again")).to_be_visible()
        await expect(page.get_by_role("heading", name="Timeline: Capital City")).to_be_visible()

        async def in_debrief():
            entry = await pipeline_entry(stack, sid)
            return entry and entry["stage"] == "debrief"

        await eventually(in_debrief, timeout=120, interval=0.5)
        await page.reload()
        timeline = page.get_by_role("list").filter(has_text="Stage: Scoring.")
        await expect(timeline).to_contain_text("Failed: scoring the submission.")
        await expect(timeline).to_contain_text("Stage: Debrief offered.")
        await check(page, "timeline")

        # Filters: by stage and by how long it has waited; a wrong age says what is wrong.
        await page.goto("/operator/submissions")
        await page.get_by_label("Stage").select_option("debrief")
        await page.get_by_role("button", name="Show").click()
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Capital City"))
        await expect(row).to_contain_text("the city")  # what it waits for, in words
        await page.goto("/operator/submissions?stage=debrief&lang=es")
        await expect(row).to_contain_text("la ciudad")
        await page.goto("/operator/submissions?lang=en")
        await page.get_by_label("Waiting at least").fill("soon")
        await page.get_by_role("button", name="Show").click()
        await expect(page.locator(".error-summary")).to_contain_text("d, h or m")
        await check(page, "submissions-error")

        # The list follows live too: filtered by part of a name, it shows a city that
        # submits while it is open.
        await page.goto("/operator/submissions?city=capital")
        await expect(page.locator("#live-bar[data-ready=true]")).to_have_count(1)
        await submit(stack, "Capital Heights")
        await expect(page.locator("#panel-list").get_by_role("link", name="Capital Heights")).to_be_visible(
            timeout=90_000)
        await expect(page.locator("#panel-list").get_by_role("link", name="Capital City")).to_be_visible()
        await check(page, "submissions-live")

        # Spanish and Portuguese.
        await page.goto("/operator/?lang=es")
        await expect(page.get_by_role("heading", name="Operaciones", level=1)).to_be_visible()
        await check(page, "overview-es")
        await page.goto("/operator/?lang=pt")
        await expect(page.get_by_role("heading", name="Operações", level=1)).to_be_visible()
        await stack.finish_debrief(sid)

        # A city's or an auditor's session is sent to sign in as an operator.
        other = await browser.new_context(base_url=base_url)
        await other.add_cookies([{"name": "wwc_token", "value": token(Role.AUDITOR, sub="auditor-9"),
                                  "url": base_url, "httpOnly": True, "sameSite": "Lax"}])
        auditor = await other.new_page()
        await auditor.goto("/operator/")
        await expect(auditor.get_by_role("heading", name="Sign in")).to_be_visible()
        await other.close()
        await context.close()
    finally:
        await browser.close()
        await playwright.stop()

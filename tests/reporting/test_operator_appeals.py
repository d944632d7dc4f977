"""Operators follow appeals: reporting fed the events of two appealed certifications (one
in appeal, its decision due; one decided, its report reissued as version 2) shows them on
the Appeals page of the operator console (Chromium, English and Spanish), in the JSON API
and in `wwc ops appeals`, and names the appeal stage in the list and the timeline."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from devtools.harness import Stack, serve
from services import cli
from services.reporting import ledger
from services.reporting.models import Report
from shared.catalog.texts import criterion_text
from shared.contracts.events import (
    Envelope,
    ReportReady,
    ScoreComputed,
    StatusChanged,
    Subject,
    SubmissionSubmitted,
    make_event,
)
from shared.contracts.vocabulary import Stage, WaitingFor
from shared.infra.auth import Role
from tests.conftest import token
from tests.portal.conftest import LAUNCH_ARGS, check_page, chromium  # noqa: F401 - the browser

pytestmark = pytest.mark.browser
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "operator"
OPERATOR = token(Role.OPERATOR, sub="operator-appeals")
NOW = datetime.now(UTC).replace(microsecond=0)


def at(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def event(subject: str, payload, sid: str, city_id: str, when: datetime) -> Envelope:
    return make_event(subject, payload, submission_id=sid, city_id=city_id).model_copy(update={"occurred_at": when})


def appeal_event(subject: str, payload: dict, sid: str, city_id: str, when: datetime) -> Envelope:
    """An appeal's own event as intake or audit publish it (`wwc.intake.appeal.filed`,
    `wwc.audit.appeal.decided`; their payloads are theirs), built as a dict so reporting is
    fed only what travels on the wire. `wwc.audit.appeal.opened` stands for any appeal event
    that carries the decision's due date (`due_at`): the Appeals page reads it from any."""
    return Envelope(type=subject, submission_id=sid, city_id=city_id, payload=payload, occurred_at=when)


def certified(sid: str, city_id: str, name: str, tier: str, percent: int) -> list[Envelope]:
    """Submitted, reviewed, scored, reported and completed, a few days ago."""
    out = [event(Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
        submission_id=sid, city_id=city_id, cycle="2026", catalog_version="wwc-2019", answered=45, evidence_count=3,
        city_name=name), sid, city_id, at(200))]
    for i, stage in enumerate((Stage.EVIDENCE_CHECK, Stage.IN_REVIEW, Stage.SCORING, Stage.REPORTING,
                               Stage.COMPLETED)):
        out.append(event(Subject.STATUS_CHANGED, StatusChanged(submission_id=sid, status=stage),
                         sid, city_id, at(199 - 10 * i)))
    out.append(event(Subject.SCORE_COMPUTED, ScoreComputed(
        submission_id=sid, city_id=city_id, cycle="2026", catalog_version="wwc-2019", met=29, total=45,
        percent=percent, tier=tier), sid, city_id, at(170)))
    return out


async def feed(stack: Stack) -> tuple[str, str]:
    """Waterford is in appeal (its decision due in two days); Lakeview's appeal was decided,
    its finding on DG1 overturned, its report reissued as version 2 at Gold."""
    runtime = stack.runtimes["reporting"]
    open_sid, open_city = str(uuid.uuid4()), str(uuid.uuid4())
    done_sid, done_city = str(uuid.uuid4()), str(uuid.uuid4())
    events = [*certified(open_sid, open_city, "Waterford", "silver", 60),
              event(Subject.STATUS_CHANGED, StatusChanged(submission_id=open_sid, status=Stage.APPEAL,
                                                          waiting_for=WaitingFor.AUDITOR), open_sid, open_city, at(30)),
              appeal_event("wwc.intake.appeal.filed", {
                  "submission_id": open_sid, "appeal_id": "a-1", "city_id": open_city, "filed_at": at(30).isoformat(),
                  "criteria": [{"criterion_id": "DG1", "statement": "Our inventory is public.", "evidence": []},
                               {"criterion_id": "GM1", "statement": "Goals were adopted.", "evidence": []}],
                  "filed_by": "city-user-1", "filed_by_name": "Dana Data"}, open_sid, open_city, at(30)),
              appeal_event("wwc.audit.appeal.opened", {"appeal_id": "a-1", "due_at": (NOW + timedelta(days=2))
                                                       .isoformat()}, open_sid, open_city, at(29)),
              *certified(done_sid, done_city, "Lakeview", "silver", 64),
              event(Subject.STATUS_CHANGED, StatusChanged(submission_id=done_sid, status=Stage.APPEAL,
                                                          waiting_for=WaitingFor.AUDITOR), done_sid, done_city, at(100)),
              appeal_event("wwc.audit.appeal.decided", {
                  "submission_id": done_sid, "appeal_id": "a-2", "city_id": done_city, "decided_at": at(20).isoformat(),
                  "decided_by": "auditor-9", "signed_off_by": "auditor-8",
                  "decisions": [{"criterion_id": "DG1", "outcome": "overturned", "before": "NO", "response": "YES"},
                                {"criterion_id": "GM1", "outcome": "upheld", "before": "NO", "response": "NO"}]},
                  done_sid, done_city, at(20)),
              event(Subject.SCORE_COMPUTED, ScoreComputed(
                  submission_id=done_sid, city_id=done_city, cycle="2026", catalog_version="wwc-2019", met=30,
                  total=45, percent=67, tier="gold", version=2), done_sid, done_city, at(19)),
              event(Subject.REPORT_READY, ReportReady(submission_id=done_sid, report_id="r-lakeview-2",
                                                      city_id=done_city, cycle="2026", language="en", tier="gold",
                                                      version=2), done_sid, done_city, at(18)),
              event(Subject.STATUS_CHANGED, StatusChanged(submission_id=done_sid, status=Stage.COMPLETED),
                    done_sid, done_city, at(18))]
    async with runtime.db.transaction() as session:
        for e in events:
            await ledger.record(session, e)
        for version, rid in ((1, "r-lakeview-1"), (2, "r-lakeview-2")):
            session.add(Report(id=rid, submission_id=done_sid, city_id=done_city, object_key=f"k/{rid}",
                               city_name="Lakeview", cycle="2026", tier="silver" if version == 1 else "gold",
                               version=version, created_at=at(170 if version == 1 else 18)))
    return open_sid, done_sid


async def test_operators_see_appeals_in_the_console_the_api_and_the_cli(infra, tmp_path, chromium, capsys):  # noqa: F811
    stack = await Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("reporting",)).start()
    base_url, server, task = await serve(stack.apps["reporting"])
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS, headless=True)
    try:
        open_sid, done_sid = await feed(stack)

        # The JSON API: the open appeal first, with its due date; then the decided one.
        async with stack.client("reporting", OPERATOR) as api:
            rows = (await api.get("/api/v1/ops/appeals")).json()
            assert [(r["city_name"], r["status"], r["report_version"]) for r in rows] == [
                ("Waterford", "open", 1), ("Lakeview", "decided", 2)]
            assert datetime.fromisoformat(rows[0]["due_at"]) == NOW + timedelta(days=2) and not rows[0]["overdue"]
            assert (rows[0]["criteria"], rows[0]["waiting_for"]) == (["DG1", "GM1"], "auditor")
            assert (rows[1]["overturned"], rows[1]["upheld"], rows[1]["tier"]) == (1, 1, "gold")
            assert [r["city_name"] for r in (await api.get("/api/v1/ops/appeals", params={"status": "open"})).json()] \
                == ["Waterford"]
            bad = await api.get("/api/v1/ops/appeals", params={"status": "maybe"})
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("status")

        # `wwc ops appeals`, as an operator types it.
        os.environ["COLUMNS"] = "220"
        code = await asyncio.to_thread(cli.main, ["ops", "--url", base_url, "--token", OPERATOR, "appeals"])
        text = capsys.readouterr().out
        assert code == 0, text
        lines = [line for line in text.splitlines() if "Waterford" in line or "Lakeview" in line]
        assert "Waterford" in lines[0] and "in appeal" in lines[0] and (NOW + timedelta(days=2)).strftime(
            "%Y-%m-%d") in lines[0]
        assert "Lakeview" in lines[1] and "decided" in lines[1] and "1 overturned, 1 upheld" in lines[1] \
            and "version 2" in lines[1]
        code = await asyncio.to_thread(cli.main, ["ops", "--url", base_url, "--token", OPERATOR, "appeals",
                                                  "--decided"])
        text = capsys.readouterr().out
        assert code == 0 and "Lakeview" in text and "Waterford" not in text

        # The console: the Appeals page from the navigation, then the timeline; in Spanish too.
        context = await browser.new_context(base_url=base_url, locale="en-GB", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        await context.add_cookies([{"name": "wwc_token", "value": OPERATOR, "url": base_url, "httpOnly": True,
                                    "sameSite": "Lax"}])
        page = await context.new_page()
        await page.goto("/operator/")
        # Reviewer consistency is audit's page, one click away for programme managers.
        assert (await page.get_by_role("link", name="Calibration", exact=True).get_attribute("href")) \
            .endswith("/audit/calibration")
        await page.get_by_role("link", name="Appeals", exact=True).click()
        await expect(page.get_by_role("heading", name="Appeals", level=1)).to_be_visible()
        rows = page.locator("#panel-appeals tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_contain_text("Waterford")
        await expect(rows.nth(0)).to_contain_text("Appeal being decided")
        await expect(rows.nth(0)).to_contain_text("waiting for an auditor")
        # The appealed findings by their statements, not bare ids.
        await expect(rows.nth(0).locator(".cell-list li")).to_have_text(
            [f"DG1 — {criterion_text('DG1', 'en')}", f"GM1 — {criterion_text('GM1', 'en')}"])
        await expect(rows.nth(1)).to_contain_text("Lakeview")
        await expect(rows.nth(1)).to_contain_text("1 overturned, 1 upheld")
        await expect(rows.nth(1)).to_contain_text("Version 2")
        await check_page(page, "appeals", results=RESULTS)
        await page.get_by_role("link", name="In appeal now").click()
        await expect(rows).to_have_count(1)

        # The certifications list filters by the appeal stage, named in words.
        await page.goto("/operator/submissions")
        await page.get_by_label("Stage").select_option(label="Appeal being decided")
        await page.get_by_role("button", name="Show").click()
        await expect(page.locator("#panel-list tbody tr")).to_have_count(1)
        await expect(page.locator("#panel-list tbody tr")).to_contain_text("Waterford")

        await page.goto(f"/operator/submissions/{done_sid}")
        timeline = page.locator(".timeline")
        await expect(timeline).to_contain_text("Stage: Appeal being decided.")
        await expect(timeline).to_contain_text("Appeal decided: 1 overturned, 1 upheld.")
        await expect(timeline).to_contain_text("Scored again after the appeal: 30 of 45 (67%). Tier: Gold")
        await expect(timeline).to_contain_text("Report reissued as version 2")
        await check_page(page, "appeal-timeline", results=RESULTS)

        await page.goto("/operator/appeals?lang=es")
        await expect(page.get_by_role("heading", name="Apelaciones", level=1)).to_be_visible()
        await expect(rows.nth(0)).to_contain_text("Apelación en decisión")
        await expect(rows.nth(1)).to_contain_text("1 revocadas, 1 confirmadas")
        await check_page(page, "appeals-es", results=RESULTS)
        await page.goto(f"/operator/submissions/{open_sid}?lang=pt")
        await expect(page.locator(".timeline")).to_contain_text("A cidade contestou as conclusões sobre DG1, GM1.")
        await expect(page.locator(".timeline")).to_contain_text("Dana Data")
        await expect(page.locator("#panel-summary")).to_contain_text("Recurso em decisão")
        await context.close()
    finally:
        await browser.close()
        await playwright.stop()
        server.should_exit = True
        await task
        await stack.stop()

"""Intake's appeal rules through its API: only once the certification completed, only
within its window, only findings the audit changed, only the city's own, only once. The
certification's progress is intake's own record (as the workflow's `record_status` and
audit's `review.completed` leave it), set here to the moment each rule is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.intake.models import Submission
from shared.contracts.events import Subject
from shared.infra.tables import outbox
from tests.intake import helpers as h
from tests.intake.helpers import CYCLE, draft, problem, wait_stage
from shared.infra.auth import Role
from tests.conftest import token

STATEMENT = {"criteria": [{"criterion_id": "DG1", "statement": "The policy was adopted in March."}]}


async def _completed(stack, *, days_ago: float, window: int | None = None):
    """A submission whose certification completed `days_ago`, with DG1 changed by the audit."""
    client, city = await draft(stack)
    await h.fill_bulk(client)
    r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
    assert r.status_code == 201, r.text
    sub = r.json()
    await wait_stage(stack, sub["workflow_id"], "in_review")
    done = datetime.now(UTC) - timedelta(days=days_ago)
    async with stack.runtimes["intake"].db.transaction() as session:
        row = await session.get(Submission, sub["id"])
        row.audit = {"final": {"DG1": "NO", "DG2": row.frozen["responses"]["DG2"]["response"]},
                     "changes": {"DG1": {"criterion": "DG1", "from_response": "YES", "to_response": "NO",
                                         "reason_code": "documents_not_submitted", "explanation": "No policy."}},
                     "approved_at": done.isoformat()}
        row.status = "completed"
        row.stages = [*row.stages, {"stage": "completed", "at": done.isoformat(), "detail": ""}]
        if window is not None:
            row.appeal_window_days = window
    return client, city, sub


async def test_a_changed_finding_is_appealed_once_within_the_window(intake):
    client, city, sub = await _completed(intake, days_ago=29)
    body = (await client.get(f"/api/v1/submissions/{sub['id']}")).json()
    assert body["appeal_open_until"] is not None
    # Only what the audit changed, with the field named.
    unchanged = problem(await client.post(f"/api/v1/submissions/{sub['id']}/appeal", json={
        "criteria": [{"criterion_id": "DG2", "statement": "Look again."}]}), 422)
    assert unchanged["code"] == "not_appealable" and unchanged["errors"][0]["field"] == "criteria.0.criterion_id"
    too_long = await client.post(f"/api/v1/submissions/{sub['id']}/appeal", json={
        "criteria": [{"criterion_id": "DG1", "statement": "x" * 4001}]})
    assert problem(too_long, 422)["code"] == "invalid_input"
    # Another city's submission is absent; staff do not appeal.
    other, _ = await h.register(intake, "Shelbyville")
    problem(await other.post(f"/api/v1/submissions/{sub['id']}/appeal", json=STATEMENT), 404)
    staff = intake.client("intake", token(Role.AUDITOR))
    problem(await staff.post(f"/api/v1/submissions/{sub['id']}/appeal", json=STATEMENT), 403)

    r = await client.post(f"/api/v1/submissions/{sub['id']}/appeal", json=STATEMENT)
    assert r.status_code == 201, r.text
    assert r.json()["status"] in ("filed", "deciding")
    assert problem(await client.post(f"/api/v1/submissions/{sub['id']}/appeal", json=STATEMENT),
                   409)["code"] == "appeal_exists"
    got = (await client.get(f"/api/v1/submissions/{sub['id']}/appeal")).json()
    assert got["criteria"][0]["statement"] == "The policy was adopted in March."
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        [event] = (await session.execute(select(outbox.c.body).where(outbox.c.subject == Subject.APPEAL_FILED))).all()
    assert event.body["payload"]["criteria"][0]["criterion_id"] == "DG1"


async def test_the_window_closes(intake):
    client, _, sub = await _completed(intake, days_ago=31)
    closed = problem(await client.post(f"/api/v1/submissions/{sub['id']}/appeal", json=STATEMENT), 409)
    assert closed["code"] == "appeal_window_closed"
    upload = await client.post(f"/api/v1/submissions/{sub['id']}/appeal/criteria/DG1/files", content=h.pdf(),
                               headers={"content-type": "application/pdf", "x-filename": "minutes.pdf"})
    assert problem(upload, 409)["code"] == "appeal_window_closed"


async def test_a_programme_without_appeals_takes_none(intake):
    client, _, sub = await _completed(intake, days_ago=1, window=0)
    assert problem(await client.post(f"/api/v1/submissions/{sub['id']}/appeal", json=STATEMENT),
                   409)["code"] == "appeal_not_open"


async def test_the_portal_offers_the_appeal_and_files_it(intake):
    """The completed certification's page offers the appeal; its form names each changed
    finding (not its id), what was submitted and found, the auditor's reason and the
    window's end; a statement per chosen finding files it; the page then shows its status."""
    import re

    import httpx

    from shared.web.pages import TOKEN_COOKIE

    client, _, sub = await _completed(intake, days_ago=2)
    token = client.headers["authorization"].split()[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=intake.apps["intake"]), base_url="http://intake",
                                 cookies={TOKEN_COOKIE: token}) as browser:
        status = (await browser.get("/portal/submission")).text
        assert 'href="/portal/submission/appeal"' in status and "Appeal a finding" in status
        page = (await browser.get("/portal/submission/appeal")).text
        assert "Data inventory" in page or "data inventory" in page.lower()  # DG1 by its name
        assert "No policy." in page and "Documents not submitted" in page and "You can appeal until" in page
        assert ">DG2<" not in page  # only what the audit changed
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        refused = await browser.post("/portal/submission/appeal", data={"csrf_token": csrf, "appeal-DG1": "yes",
                                                                        "statement-DG1": ""})
        assert refused.status_code == 422 and "Write why the finding should change" in refused.text
        done = await browser.post("/portal/submission/appeal", data={
            "csrf_token": csrf, "appeal-DG1": "yes", "statement-DG1": "The policy was adopted in March."})
        assert done.status_code == 303, done.text[:500]
        after = (await browser.get("/portal/submission/appeal", params={"lang": "es"})).text
        assert "Su apelación" in after and "The policy was adopted in March." in after

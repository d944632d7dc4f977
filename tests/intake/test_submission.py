"""Submission: completeness explained, the frozen snapshot, the event, the workflow and
its status; clarification answers within the due date; withdrawal before scoring."""

from __future__ import annotations


import hashlib
from datetime import timedelta

from sqlalchemy import select

from services.intake.models import Assessment, ClarificationAnswer, Submission
from shared.contracts.events import Subject
from certification.activities import ReviewOutcome
from certification.contract import Signal
from shared.infra.tables import outbox
from tests.infra.test_consumer import eventually
from tests.intake import helpers as h
from tests.intake.helpers import CATALOG, CYCLE, draft, problem, save, upload, wait_stage


async def _events(stack, subject: str) -> list[dict]:
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        rows = await session.execute(select(outbox.c.body).where(outbox.c.subject == subject))
        return [r.body for r in rows]


async def _submitted(stack):
    client, city = await draft(stack)
    await h.fill_bulk(client)
    r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
    assert r.status_code == 201, r.text
    sub = r.json()
    await wait_stage(stack, sub["workflow_id"], "in_review")
    return client, city, sub


async def test_incomplete_submission_explains_what_is_missing(intake):
    client, _ = await draft(intake)
    await save(client, "DG1", "YES")
    await save(client, "DG2", "NO")
    body = problem(await client.post(f"/api/v1/assessments/{CYCLE}/submit"), 422)
    assert body["code"] == "submission_incomplete"
    errors = {e["criterion_id"]: e for e in body["errors"]}
    assert len(errors) == len(CATALOG.criteria) - 1  # all but DG2
    assert errors["DG1"] == {"field": "responses.DG1.evidence", "criterion_id": "DG1", "area": "DG",
                             "reason": "a YES needs evidence: upload a file or add a link", "kind": "needs_evidence"}
    assert errors["SE4"]["reason"] == "not answered" and errors["SE4"]["field"] == "responses.SE4"
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        assert (await session.scalars(select(Submission))).all() == []
        assert (await session.scalar(select(Assessment))).status == "draft"
    other, _ = await h.register(intake, "Other")
    problem(await other.post(f"/api/v1/assessments/{CYCLE}/submit"), 404)


async def test_submit_freezes_publishes_and_starts_the_workflow(intake):
    client, _ = await draft(intake)
    answers = await h.fill_all(client)
    content = h.pdf(4000)
    file_ev = (await upload(client, "DG1", "inventory.pdf", content)).json()

    r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
    assert r.status_code == 201, r.text
    sub = r.json()
    assert (sub["status"], sub["cycle"], sub["catalog_version"]) == ("submitted", CYCLE, "wwc-2019")
    assert sub["workflow_id"] == f"certification-{sub['id']}"
    again = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
    assert again.status_code == 200 and again.json()["id"] == sub["id"]

    # The city follows its status: the stages the workflow recorded in intake.
    body = await eventually(lambda: _status_is(client, sub["id"], "in_review"), timeout=30, interval=0.1)
    assert [x["stage"] for x in body["history"]] == ["submitted", "evidence_check", "in_review"]
    assert body["waiting_for"] == "auditor"
    listed = (await client.get("/api/v1/submissions")).json()
    assert [s["id"] for s in listed] == [sub["id"]]

    frozen = (await client.get(f"/api/v1/submissions/{sub['id']}/frozen")).json()["frozen"]
    assert {cid: v["response"] for cid, v in frozen["responses"].items()} == answers
    manifest = {e["id"]: e for e in frozen["evidence"]}
    assert manifest[file_ev["id"]]["sha256"] == hashlib.sha256(content).hexdigest()
    assert manifest[file_ev["id"]]["object_key"] and manifest[file_ev["id"]]["size"] == len(content)
    assert sum(e["kind"] == "link" for e in frozen["evidence"]) == list(answers.values()).count("YES")

    [event] = await _events(intake, Subject.SUBMISSION_SUBMITTED)
    assert event["submission_id"] == sub["id"] and event["payload"]["answered"] == len(CATALOG.criteria)

    # The draft is locked now.
    body = problem(await save(client, "DG2", "YES"), 409)
    assert "submitted" in body["detail"]
    problem(await client.put(f"/api/v1/assessments/{CYCLE}/responses",
                             json={"responses": {"DG2": {"response": "NO"}}}), 409)


async def _status_is(client, submission_id: str, status: str):
    body = (await client.get(f"/api/v1/submissions/{submission_id}")).json()
    return body if body["status"] == status else None


async def test_clarification_answered_within_due_date(intake):
    client, _, sub = await _submitted(intake)
    wf = sub["workflow_id"]
    request_id = await h.request_clarification(intake, sub["id"], ["DG1", "DG2"], message="Send the inventory.")
    await wait_stage(intake, wf, "clarification")

    [open_req] = (await client.get(f"/api/v1/submissions/{sub['id']}/clarifications")).json()
    assert (open_req["request_id"], open_req["state"], open_req["criteria"]) == (request_id, "open", ["DG1", "DG2"])
    assert open_req["message"] == "Send the inventory."

    base = f"/api/v1/submissions/{sub['id']}/clarifications/{request_id}"
    # Files only on the criteria the request names.
    body = problem(await upload(client, "X", "a.pdf", h.pdf(), path=f"{base}/criteria/OD1/files"), 422)
    assert "not named in this request" in body["errors"][0]["reason"]
    problem(await upload(client, "X", "a.exe", b"MZ", path=f"{base}/criteria/DG1/files"), 415)
    content = h.pdf(3000)
    r = await upload(client, "X", "inventory-2026.pdf", content, path=f"{base}/criteria/DG1/files")
    assert r.status_code == 201, r.text
    file_ev = r.json()
    assert file_ev["clarification_id"] == request_id and file_ev["sha256"] == hashlib.sha256(content).hexdigest()

    body = problem(await client.post(f"{base}/answer", json={"answers": {
        "DG1": {"narrative": "Attached."}, "OD1": {"narrative": "Extra"}}}), 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"answers.OD1"}
    body = problem(await client.post(f"{base}/answer", json={"answers": {"DG1": {"narrative": "Attached."}}}), 422)
    assert body["errors"] == [{"field": "answers.DG2", "reason": "named in the request: give a new narrative"}]

    frozen_before = (await client.get(f"/api/v1/submissions/{sub['id']}/frozen")).json()
    r = await client.post(f"{base}/answer", json={"answers": {
        "DG1": {"narrative": "The inventory is attached."},
        "DG2": {"narrative": "Policy adopted in May.", "links": ["https://data.example.gov/policy"]},
    }})
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["state"] == "answered" and answer["answers"]["DG1"]["evidence_ids"] == [file_ev["id"]]
    assert len(answer["answers"]["DG2"]["evidence_ids"]) == 1

    status = await wait_stage(intake, wf, "in_review")
    assert status.answered_clarifications == [request_id] and status.open_clarifications == []
    problem(await client.post(f"{base}/answer", json={"answers": {"DG1": {"narrative": "again"},
                                                                  "DG2": {"narrative": "again"}}}), 409)
    problem(await upload(client, "X", "late.pdf", h.pdf(), path=f"{base}/criteria/DG1/files"), 409)
    # The frozen submission never changes; the answer is stored beside it.
    assert (await client.get(f"/api/v1/submissions/{sub['id']}/frozen")).json() == frozen_before
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        [stored] = (await session.scalars(select(ClarificationAnswer))).all()
    assert stored.request_id == request_id and stored.answers["criteria"]["DG2"]["narrative"] == "Policy adopted in May."
    listed = (await client.get(f"/api/v1/submissions/{sub['id']}/clarifications")).json()
    assert [(c["request_id"], c["state"]) for c in listed] == [(request_id, "answered")]
    assert len(listed[0]["evidence"]) == 2

    # A request whose due date passes can no longer be answered.
    late_id = await h.request_clarification(intake, sub["id"], ["EVAL1"], due_in=timedelta(seconds=1.5))
    await wait_stage(intake, wf, "clarification")
    [late] = [c for c in (await client.get(f"/api/v1/submissions/{sub['id']}/clarifications")).json()
              if c["request_id"] == late_id]
    assert late["state"] == "open"
    status = await wait_stage(intake, wf, "in_review")  # the workflow closes it at its due date
    assert late_id in status.expired_clarifications
    late_base = f"/api/v1/submissions/{sub['id']}/clarifications/{late_id}"
    body = problem(await client.post(f"{late_base}/answer", json={"answers": {"EVAL1": {"narrative": "too late"}}}),
                   409)
    assert "passed its due date" in body["detail"]
    problem(await upload(client, "X", "late.pdf", h.pdf(), path=f"{late_base}/criteria/EVAL1/files"), 409)
    async def closed_as_expired():  # audit announces the round closed; intake keeps it so
        states = {c["request_id"]: c["state"] for c in
                  (await client.get(f"/api/v1/submissions/{sub['id']}/clarifications")).json()}
        return states == {request_id: "answered", late_id: "expired"}

    await eventually(closed_as_expired, timeout=15, interval=0.1)
    problem(await client.post(f"/api/v1/submissions/{sub['id']}/clarifications/nope/answer",
                              json={"answers": {"EVAL1": {"narrative": "x"}}}), 404)


async def test_withdraw_before_scoring(intake):
    client, _, sub = await _submitted(intake)
    r = await client.post(f"/api/v1/submissions/{sub['id']}/withdraw", json={"reason": "Next cycle instead."})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"
    assert r.json()["withdrawn_reason"] == "Next cycle instead."
    assert r.json()["withdrawn_by"] == "Springfield Data Office"  # who withdrew, by name
    await eventually(lambda: _status_is(client, sub["id"], "withdrawn"), timeout=15)
    again = await client.post(f"/api/v1/submissions/{sub['id']}/withdraw", json={})
    assert again.status_code == 200
    [event] = await _events(intake, Subject.SUBMISSION_WITHDRAWN)
    assert event["payload"]["reason"] == "Next cycle instead."
    assert event["payload"]["by_name"] == "Springfield Data Office"
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        assert (await session.scalar(select(Assessment))).status == "withdrawn"


async def test_withdraw_refused_once_scoring_started(intake):
    client, _, sub = await _submitted(intake)
    handle = intake.runtimes["intake"].temporal_client.get_workflow_handle(sub["workflow_id"])
    await handle.signal(Signal.REVIEW_COMPLETED, ReviewOutcome(case_id="c1", audited_responses={"DG1": "YES"}))
    await wait_stage(intake, sub["workflow_id"], "scoring")  # no scoring worker here: it stays there
    body = problem(await client.post(f"/api/v1/submissions/{sub['id']}/withdraw", json={"reason": "late"}), 409)
    assert body["code"] == "too_late_to_withdraw" and "scoring has started" in body["detail"]
    assert body["stage"] == "scoring"
    assert await _events(intake, Subject.SUBMISSION_WITHDRAWN) == []
    await handle.terminate("test over: no scoring service runs here")


async def test_a_withdrawn_submission_is_never_run_again(intake):
    """Submitting again returns the withdrawn submission and does not even try to start a
    run: relying on Temporal to reject the duplicate fails once retention has removed the
    closed run, and the certification would start over."""
    from shared.infra.tables import workflow_calls

    client, _, sub = await _submitted(intake)
    r = await client.post(f"/api/v1/submissions/{sub['id']}/withdraw", json={"reason": "next cycle"})
    assert r.status_code == 200, r.text
    await eventually(lambda: _status_is(client, sub["id"], "withdrawn"), timeout=15)
    again = await client.post("/api/v1/assessments/2026/submit")
    assert again.status_code == 200 and again.json()["id"] == sub["id"]
    assert again.json()["status"] == "withdrawn"
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        starts = (await session.execute(select(workflow_calls.c.kind, workflow_calls.c.outcome).where(
            workflow_calls.c.workflow_id == sub["workflow_id"], workflow_calls.c.kind == "start"))).all()
    assert starts == [("start", "delivered")]  # the first submit's, delivered once; none since

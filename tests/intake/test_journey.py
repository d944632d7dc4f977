"""The whole city journey through the HTTP API with all five services: register ->
Data Snapshot -> every criterion with evidence (files and links) -> submit -> status
moves -> a clarification answered -> review completed -> scored, reported, completed;
and a second city that withdraws."""

from __future__ import annotations

import pytest

from services.intake.config import IntakeOptions
from shared.contracts.activities import ReviewOutcome
from shared.contracts.workflows import Signal
from devtools.harness import Stack
from tests.infra.test_consumer import eventually
from tests.intake import helpers as h
from tests.intake.helpers import CATALOG, CYCLE, YES_ALL, problem, upload

pytestmark = pytest.mark.slow


@pytest.fixture
async def full_stack(infra, backend, tmp_path):
    stack = Stack(infra=infra, backend=backend, tmp=tmp_path,
                  build_kwargs={"intake": {"options": IntakeOptions(review_mode="auditor")}})
    await stack.start()
    yield stack
    await stack.stop()


async def test_city_journey_to_certification(full_stack):
    stack = full_stack
    client, city = await h.register(stack, "Riverton", population=112_000)
    snap = (await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": YES_ALL})).json()
    assert snap["eligibility"]["eligible"]
    assert (await client.post(f"/api/v1/assessments/{CYCLE}")).status_code == 201

    files = [("inventory.pdf", h.pdf()), ("policy.docx", h.docx()), ("kpis.xlsx", h.xlsx()),
             ("open-data.csv", h.csv()), ("dashboard.png", h.png()), ("team.jpg", h.jpeg()), ("notes.txt", h.txt())]
    answers = {}
    for i, crit in enumerate(CATALOG.criteria):
        answer = "YES" if i < 34 else ("IN_PROGRESS" if i % 2 else "NO")
        r = await h.save(client, crit.id, answer, f"What {city['name']} does for {crit.id}.")
        assert r.status_code == 200, r.text
        answers[crit.id] = answer
        if answer != "YES":
            continue
        if i < len(files):
            name, content = files[i]
            r = await upload(client, crit.id, name, content, raw=i % 2 == 1)
        else:
            r = await client.post(f"/api/v1/assessments/{CYCLE}/criteria/{crit.id}/links",
                                  json={"url": f"https://data.riverton.gov/{crit.id.lower()}"})
        assert r.status_code == 201, r.text

    progress = (await client.get(f"/api/v1/assessments/{CYCLE}/progress")).json()
    assert progress["ready_to_submit"] and progress["answered"] == 45 and progress["yes_with_evidence"] == 34

    r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
    assert r.status_code == 201, r.text
    sub = r.json()
    wf = sub["workflow_id"]
    await h.wait_stage(stack, wf, "in_review", timeout=60)

    # An auditor asks for documents on two criteria; the city answers with a file.
    request_id = await h.request_clarification(stack, wf, ["DG1", "GM1"], message="Please send the inventory.")
    await h.wait_stage(stack, wf, "clarification")
    [req] = (await client.get(f"/api/v1/submissions/{sub['id']}/clarifications")).json()
    assert req["request_id"] == request_id and req["state"] == "open"
    base = f"/api/v1/submissions/{sub['id']}/clarifications/{request_id}"
    r = await upload(client, "DG1", "inventory-v2.pdf", h.pdf(6000), path=f"{base}/criteria/DG1/files")
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/answer", json={"answers": {
        "DG1": {"narrative": "Updated inventory attached."},
        "GM1": {"narrative": "The mayor's memo is online.", "links": ["https://riverton.gov/memo"]},
    }})
    assert r.status_code == 201, r.text
    await h.wait_stage(stack, wf, "in_review")

    # The review completes (the auditor corrects one answer): scoring, report, debrief.
    audited = {**answers, "GM1": "IN_PROGRESS"}
    handle = stack.runtimes["intake"].temporal_client.get_workflow_handle(wf)
    await handle.signal(Signal.REVIEW_COMPLETED, ReviewOutcome(case_id="case-1", audited_responses=audited,
                                                               corrections=1))

    async def offered():
        body = (await client.get(f"/api/v1/submissions/{sub['id']}")).json()
        return body if body["workflow"]["stage"] == "debrief" else None

    await eventually(offered, timeout=90, interval=0.3)
    await stack.finish_debrief(sub["id"])  # the city declines the call

    async def completed():
        body = (await client.get(f"/api/v1/submissions/{sub['id']}")).json()
        return body if body["workflow"]["stage"] == "completed" and body["status"] == "completed" else None

    body = await eventually(completed, timeout=90, interval=0.3)
    stages = [x["stage"] for x in body["workflow"]["history"]]
    assert stages == ["submitted", "evidence_check", "in_review", "clarification", "in_review", "scoring",
                      "reporting", "debrief", "completed"]
    score = body["workflow"]["score"]
    assert score["total"] == 45 and score["met"] <= 33
    assert body["workflow"]["answered_clarifications"] == [request_id]
    [listed] = (await client.get("/api/v1/submissions")).json()
    assert listed["id"] == sub["id"] and listed["status"] == "completed"

    # A second city withdraws while in review; afterwards nothing can be withdrawn or answered.
    other, _ = await h.draft(stack, "Lakeside", state="OH", population=64_000)
    await h.fill_bulk(other)
    sub2 = (await other.post(f"/api/v1/assessments/{CYCLE}/submit")).json()
    await h.wait_stage(stack, sub2["workflow_id"], "in_review", timeout=60)
    r = await other.post(f"/api/v1/submissions/{sub2['id']}/withdraw", json={"reason": "Budget freeze."})
    assert r.status_code == 200 and r.json()["workflow"]["stage"] == "withdrawn"

    async def withdrawn():
        body = (await other.get(f"/api/v1/submissions/{sub2['id']}")).json()
        return body if body["status"] == "withdrawn" else None

    await eventually(withdrawn, timeout=30)
    body = problem(await client.post(f"/api/v1/submissions/{sub['id']}/withdraw", json={}), 409)
    assert "can no longer be withdrawn" in body["detail"]

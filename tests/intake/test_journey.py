"""The whole city journey through the HTTP API with all five services: register ->
Data Snapshot -> every criterion with evidence (files and links) -> submit -> status
moves -> an auditor asks for documents and the city answers -> the auditor changes one
answer, a second auditor signs off -> scored, reported, the debrief declined, completed;
and a second city that withdraws. The auditors work through audit's API."""

from __future__ import annotations

import pytest

from devtools import actors
from devtools.harness import Stack
from services.intake.config import IntakeOptions
from shared.infra.auth import Role
from tests.conftest import token
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

    # An auditor claims the case and asks for documents on two criteria through audit's
    # API; the city sees the request and answers it with a file.
    sid = sub["id"]
    ana, ben = actors.Auditor(stack, token(Role.AUDITOR, sub="ana")), actors.Auditor(stack, token(Role.AUDITOR, sub="ben"))
    await ana.wait_for_case(sid)
    await ana.claim(sid)
    asked = await ana.ask_city(sid, ["DG1", "GM1"], "Please send the inventory.")
    await h.wait_stage(stack, wf, "clarification")

    async def requested():
        found = (await client.get(f"/api/v1/submissions/{sid}/clarifications")).json()
        return found or None

    [req] = await eventually(requested, timeout=30, interval=0.2)
    request_id = req["request_id"]
    assert request_id == asked["id"] and req["state"] == "open" and req["criteria"] == ["DG1", "GM1"]
    base = f"/api/v1/submissions/{sid}/clarifications/{request_id}"
    r = await upload(client, "DG1", "inventory-v2.pdf", h.pdf(6000), path=f"{base}/criteria/DG1/files")
    assert r.status_code == 201, r.text
    r = await client.post(f"{base}/answer", json={"answers": {
        "DG1": {"narrative": "Updated inventory attached."},
        "GM1": {"narrative": "The mayor's memo is online.", "links": ["https://riverton.gov/memo"]},
    }})
    assert r.status_code == 201, r.text
    await h.wait_stage(stack, wf, "in_review")

    # The auditor corrects one answer and asks for sign-off; a second auditor approves:
    # scoring, report, debrief.
    await eventually(lambda: ana.round_closed(sid), timeout=30, interval=0.2)
    await ana.decide(sid, actors.Change("GM1", "IN_PROGRESS", "documents_not_submitted",
                                        "The memo names no owner.", "The memo naming the team."))
    await ana.confirm_remaining(sid)
    await ben.approve(sid, await ana.request_signoff(sid))

    city_person = actors.City(stack, city["name"], "", token=client.headers["authorization"].split()[1],
                              submission_id=sid)
    await eventually(city_person.debrief_offered, timeout=90, interval=0.3)
    await city_person.decline_debrief()

    async def completed():
        body = (await client.get(f"/api/v1/submissions/{sid}")).json()
        return body if body["status"] == "completed" else None

    body = await eventually(completed, timeout=90, interval=0.3)
    stages = [x["stage"] for x in body["history"]]
    assert stages == ["submitted", "evidence_check", "in_review", "clarification", "in_review", "scoring",
                      "reporting", "debrief", "completed"]
    score = body["score"]
    assert score["total"] == 45 and score["met"] <= 33
    assert body["report_url"] and body["debrief_outcome"] == "declined"
    # The city reads the audited result beside what it submitted: the API and the portal.
    audited = {a["criterion"]: a for a in body["audited"]}
    assert len(audited) == 45
    assert audited["GM1"] == {"criterion": "GM1", "submitted": "YES", "audited": "IN_PROGRESS", "changed": True,
                              "reason_code": "documents_not_submitted", "explanation": "The memo names no owner.",
                              "what_would_satisfy": "The memo naming the team."}
    assert audited["DG1"]["audited"] == "YES" and not audited["DG1"]["changed"]
    page = await h.portal_page(stack, client, "/portal/assessment/criteria/GM1")
    assert "Audited result" in page and "The memo names no owner." in page and "The memo naming the team." in page
    assert "documents_not_submitted" not in page  # the reason's name, not its code
    [answered] = (await client.get(f"/api/v1/submissions/{sid}/clarifications")).json()
    assert answered["state"] == "answered" and answered["answers"]["DG1"]["narrative"] == "Updated inventory attached."
    [listed] = (await client.get("/api/v1/submissions")).json()
    assert listed["id"] == sub["id"] and listed["status"] == "completed"

    # A second city withdraws while in review; afterwards nothing can be withdrawn or answered.
    other, _ = await h.draft(stack, "Lakeside", state="OH", population=64_000)
    await h.fill_bulk(other)
    sub2 = (await other.post(f"/api/v1/assessments/{CYCLE}/submit")).json()
    await h.wait_stage(stack, sub2["workflow_id"], "in_review", timeout=60)
    r = await other.post(f"/api/v1/submissions/{sub2['id']}/withdraw", json={"reason": "Budget freeze."})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"

    async def withdrawn():
        body = (await other.get(f"/api/v1/submissions/{sub2['id']}")).json()
        return body if body["status"] == "withdrawn" else None

    await eventually(withdrawn, timeout=30)
    body = problem(await client.post(f"/api/v1/submissions/{sub['id']}/withdraw", json={}), 409)
    assert "can no longer be withdrawn" in body["detail"]

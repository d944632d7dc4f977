"""Appeals end to end through the HTTP APIs (real NATS, Temporal, S3 and databases): a
city's certification completes with an audited change; the city appeals it with a
statement and a file; auditors who took part in the review are refused; an independent
auditor overturns the finding and a second signs it off (the decider may not); the
workflow re-scores and reissues the report as version 2, and the certification completes
again. A second appeal is refused."""

from __future__ import annotations

import httpx
import pytest

from sqlalchemy import select

from certification import gateway
from devtools import actors
from services.notify.domain import Kind
from services.notify.models import Mail
from shared.catalog.loader import load_catalog
from shared.infra.auth import Role
from tests.conftest import token as stack_token
from tests.e2e.test_walking_skeleton import demo_responses
from tests.infra.test_consumer import eventually
from tests.intake.helpers import pdf

pytestmark = pytest.mark.slow

CITY = {"name": "Lakeview", "state": "IL", "country": "US", "population": 140_000,
        "contact_name": "Rosa Vega", "contact_email": "rosa@lakeview.gov", "password": "correct-horse-battery"}


async def test_an_independent_auditor_overturns_an_appealed_finding_and_the_report_is_reissued(stack, people):
    cam = actors.Auditor(stack, await stack.create_staff("cam@auditors.example.org", "Cam Ito", Role.AUDITOR))
    dee = actors.Auditor(stack, await stack.create_staff("dee@auditors.example.org", "Dee Shah", Role.AUDITOR))
    registered = await stack.register_city(CITY)
    token = registered["token"]["access_token"]
    intake = stack.client("intake", token)
    snapshot = {q.id: True for q in load_catalog("wwc-2019").snapshot}
    assert (await intake.post("/api/v1/snapshots/2026", json={"answers": snapshot})).status_code == 201
    responses = demo_responses(yes=31)
    assert (await intake.put("/api/v1/assessments/2026/responses", json={"responses": responses})).status_code == 200
    r = await intake.post("/api/v1/assessments/2026/submit")
    assert r.status_code == 201, r.text
    sid = r.json()["id"]

    # Ana changes DG1 (YES -> IN_PROGRESS); Ben signs the review off.
    await people.review(sid, [actors.Change("DG1", "IN_PROGRESS", "documents_not_submitted",
                                            "No policy was attached.", "The adopted policy.")])
    # Not appealable before completion.
    early = await intake.post(f"/api/v1/submissions/{sid}/appeal",
                              json={"criteria": [{"criterion_id": "DG1", "statement": "Adopted."}]})
    assert early.status_code == 409 and early.json()["code"] == "appeal_not_open", early.text
    await people.decline_debrief(token, sid)

    async def completed():
        body = (await intake.get(f"/api/v1/submissions/{sid}")).json()
        return body if body["status"] == "completed" else None

    first = await eventually(completed, timeout=90, interval=0.3)
    assert first["appeal_open_until"], first
    first_score = first["score"]

    # Only a finding the audit changed can be appealed; the field is named.
    r = await intake.post(f"/api/v1/submissions/{sid}/appeal",
                          json={"criteria": [{"criterion_id": "DG2", "statement": "Please look again."}]})
    assert r.status_code == 422 and r.json()["code"] == "not_appealable", r.text
    assert r.json()["errors"][0]["field"] == "criteria.0.criterion_id"
    # A blank statement is refused.
    r = await intake.post(f"/api/v1/submissions/{sid}/appeal",
                          json={"criteria": [{"criterion_id": "DG1", "statement": "   "}]})
    assert r.status_code == 422, r.text

    # The new evidence goes through the evidence checks, then the appeal is filed.
    r = await intake.post(f"/api/v1/submissions/{sid}/appeal/criteria/DG1/files", content=pdf(),
                          headers={"content-type": "application/pdf", "x-filename": "council-minutes.pdf"})
    assert r.status_code == 201, r.text
    statement = "The data policy was adopted by the council in March; the minutes are attached."
    r = await intake.post(f"/api/v1/submissions/{sid}/appeal",
                          json={"criteria": [{"criterion_id": "DG1", "statement": statement}]})
    assert r.status_code == 201, r.text
    appeal = r.json()
    assert [c["criterion_id"] for c in appeal["criteria"]] == ["DG1"]
    assert appeal["criteria"][0]["evidence"][0]["filename"] == "council-minutes.pdf"
    again = await intake.post(f"/api/v1/submissions/{sid}/appeal",
                              json={"criteria": [{"criterion_id": "DG1", "statement": "Again."}]})
    assert again.status_code == 409 and again.json()["code"] == "appeal_exists", again.text

    # Audit receives it with the city's statement and file, and the original finding.
    async def opened():
        async with cam.audit() as audit:
            r = await audit.get(f"/api/v1/appeals/{appeal['id']}")
        return r.json() if r.status_code == 200 else None

    case = await eventually(opened, timeout=60, interval=0.3)

    # Operators see it in appeal, with the decision's due date audit set.
    operator = stack.client("reporting", stack_token(Role.OPERATOR))

    async def in_appeal():
        rows = (await operator.get("/api/v1/ops/appeals", params={"status": "open"})).json()
        return [a for a in rows if a["submission_id"] == sid and a["due_at"]]

    [row] = await eventually(in_appeal, timeout=60, interval=0.3)
    assert row["due_at"][:16] == case["due_at"][:16], (row, case)
    [finding] = case["findings"]
    assert (finding["submitted"], finding["audited"], finding["statement"]) == ("YES", "IN_PROGRESS", statement)
    assert finding["original_explanation"] == "No policy was attached." and finding["evidence"][0]["object_key"]
    assert len(case["excluded"]) >= 2 and case["status"] == "open"  # the review's auditors

    # The auditor console: the appeal in the queue's "Appeals" section, and its page with the
    # original finding, the auditor's reason, the city's statement and file, and the form.
    async def console(token: str, path: str, lang: str = "en") -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.apps["audit"]), base_url="http://audit",
                                     cookies={"wwc_token": token}) as browser:
            r = await browser.get(path, params={"lang": lang})
        assert r.status_code == 200, r.text[:2000]
        return r.text

    queue_html = await console(cam.token, "/audit/queue")
    assert f'href="/audit/appeals/{appeal["id"]}"' in queue_html and "Lakeview" in queue_html
    page = await console(cam.token, f"/audit/appeals/{appeal['id']}")
    assert statement in page and "No policy was attached." in page and "council-minutes.pdf" in page
    assert "Documents not submitted" in page or "documents_not_submitted" not in page
    assert 'name="explanation"' in page and "DG1" not in page.split("<h1>")[1].split("</h1>")[0]
    assert "took part in the review" in await console(people.ana.token, f"/audit/appeals/{appeal['id']}")
    assert "Apelación de Lakeview" in await console(cam.token, f"/audit/appeals/{appeal['id']}", "es")

    decision = {"criterion_id": "DG1", "outcome": "overturned", "reason_code": "additional_evidence_provided",
                "explanation": "The council minutes show the policy was adopted before the deadline."}
    # Neither auditor of the review may decide it.
    for reviewer in (people.ana, people.ben):
        async with reviewer.audit() as audit:
            r = await audit.post(f"/api/v1/appeals/{appeal['id']}/decisions", json=decision)
        assert r.status_code == 403 and r.json()["code"] == "not_independent", r.text
    async with cam.audit() as audit:
        r = await audit.post(f"/api/v1/appeals/{appeal['id']}/decisions", json=decision | {"explanation": ""})
        assert r.status_code == 422, r.text  # an explanation is required
        r = await audit.post(f"/api/v1/appeals/{appeal['id']}/decisions", json=decision)
        assert r.status_code == 200 and r.json()["status"] == "signoff", r.text
        # The decider may not sign it off.
        r = await audit.post(f"/api/v1/appeals/{appeal['id']}/signoff")
        assert r.status_code == 403 and r.json()["code"] == "four_eyes", r.text
    async with people.ben.audit() as audit:
        r = await audit.post(f"/api/v1/appeals/{appeal['id']}/signoff")
        assert r.status_code == 403 and r.json()["code"] == "not_independent", r.text
    async with dee.audit() as audit:
        r = await audit.post(f"/api/v1/appeals/{appeal['id']}/signoff")
        assert r.status_code == 200 and r.json()["status"] == "decided", r.text

    # The workflow re-scores with DG1 back to YES and reissues the report as version 2.
    client = stack.runtimes["intake"].temporal_client

    async def reissued():
        s = await gateway.status(client, sid)
        return s if s is not None and s.report_version == 2 else None

    status = await eventually(reissued, timeout=90, interval=0.3)
    assert status.appeal_decided is not None and status.appeal_decided.decisions[0].outcome == "overturned"
    assert status.score is not None and status.score.met == first_score["met"] + 1

    async def decided():
        body = (await intake.get(f"/api/v1/submissions/{sid}/appeal")).json()
        return body if body["status"] == "decided" else None

    body = await eventually(decided, timeout=60, interval=0.3)
    assert body["criteria"][0]["decision"]["outcome"] == "overturned"
    assert body["criteria"][0]["decision"]["response"] == "YES"

    async def completed_again():
        body = (await intake.get(f"/api/v1/submissions/{sid}")).json()
        stages = [h["stage"] for h in body["history"]]
        return body if stages[-2:] == ["appeal", "completed"] else None

    final = await eventually(completed_again, timeout=90, interval=0.3)
    assert final["score"]["met"] == first_score["met"] + 1

    # Calibration counts the overturn against the appealed reviewer's decisions.
    async with cam.audit() as audit:
        measured = (await audit.get("/api/v1/calibration")).json()
    rows = {(r["scope"], r["key"]): r for r in measured["rows"]}
    assert (rows[("criterion", "DG1")]["appeals"], rows[("criterion", "DG1")]["appeal_overturn_rate"]) == (1, 1.0)
    ana_id = await cam.auditor_id("ana@auditors.example.org")
    assert (rows[("auditor", ana_id)]["appeals"], rows[("auditor", ana_id)]["appeal_overturn_rate"]) == (1, 1.0)

    # The reissued report: version 2 is current and replaces version 1, whose code still
    # verifies what it was and says it is superseded by version 2's.
    reporting = stack.client("reporting", token)
    versions = (await reporting.get(f"/api/v1/reports/by-submission/{sid}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2], versions
    first, second = versions
    assert second["replaces_id"] == first["id"] and second["verification_code"] != first["verification_code"]
    current = (await reporting.get(f"/api/v1/reports/by-submission/{sid}")).json()
    assert current["id"] == second["id"]
    public = stack.client("reporting")
    old = (await public.get(f"/api/v1/verify/{first['verification_code']}")).json()
    assert old["current"] is False and old["superseded_by_version"] == 2, old
    new = (await public.get(f"/api/v1/verify/{second['verification_code']}")).json()
    assert new["current"] is True and new["version"] == 2, new

    # The city was told the outcome once.
    async with stack.runtimes["notify"].db.sessionmaker() as session:
        told = (await session.scalars(select(Mail.to).where(Mail.kind == Kind.APPEAL_DECIDED))).all()
    assert told == [CITY["contact_email"]], told

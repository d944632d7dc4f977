"""A city can never read or change another city's data: every intake endpoint, called
with the other city's token and this city's ids, answers 404 (or 403) and changes nothing."""

from __future__ import annotations


from shared.web.routes import api_routes
from tests.intake import helpers as h
from tests.intake.helpers import YES_ALL, bucket_keys, draft, evidence_rows, upload

SUBMITTED, DRAFT = "2026", "2027"


async def _fingerprint(stack, client, sub_id: str) -> dict:
    """Everything of city A that B's calls could touch."""
    me = (await client.get("/api/v1/me")).json()
    city_id = me["city"]["id"]
    sub = (await client.get(f"/api/v1/submissions/{sub_id}")).json()
    return {
        "city": (await client.get(f"/api/v1/cities/{city_id}")).json(),
        "users": (await client.get(f"/api/v1/cities/{city_id}/users")).json(),
        "snapshot": (await client.get(f"/api/v1/snapshots/{DRAFT}")).json(),
        "draft": (await client.get(f"/api/v1/assessments/{DRAFT}")).json(),
        "submission": (sub["status"], sub["history"], sub["waiting_for"]),
        "frozen": (await client.get(f"/api/v1/submissions/{sub_id}/frozen")).json(),
        "clarifications": (await client.get(f"/api/v1/submissions/{sub_id}/clarifications")).json(),
        "submissions": (await client.get("/api/v1/submissions")).json(),
        "objects": sorted(await bucket_keys(stack)),
        "evidence": sorted(e.id for e in await evidence_rows(stack)),
    }


async def test_no_city_reaches_another_citys_data(intake):
    # City A: a submitted 2026 assessment with an open clarification, and a 2027 draft with files.
    a, city_a = await draft(intake, "Springfield", cycle=SUBMITTED)
    await h.fill_bulk(a, SUBMITTED)
    a_frozen_file = (await upload(a, "DG1", "a.pdf", h.pdf(), cycle=SUBMITTED)).json()
    sub = (await a.post(f"/api/v1/assessments/{SUBMITTED}/submit")).json()
    await h.wait_stage(intake, sub["workflow_id"], "in_review")
    request_id = await h.request_clarification(intake, sub["id"], ["DG1"])
    await h.wait_stage(intake, sub["workflow_id"], "clarification")
    assert (await a.post(f"/api/v1/snapshots/{DRAFT}", json={"answers": YES_ALL})).status_code == 201
    assert (await a.post(f"/api/v1/assessments/{DRAFT}")).status_code == 201
    await h.save(a, "DG1", "YES", "A's narrative", cycle=DRAFT)
    a_file = (await upload(a, "DG1", "draft.pdf", h.pdf(), cycle=DRAFT)).json()
    a_link = (await a.post(f"/api/v1/assessments/{DRAFT}/criteria/DG1/links",
                           json={"url": "https://a.example.gov/x"})).json()

    # City B: its own draft (so its token is a normal, fully set-up city's) and a file.
    b, city_b = await draft(intake, "Shelbyville", cycle=SUBMITTED)
    b_file = (await upload(b, "DG1", "b.pdf", h.pdf(), cycle=SUBMITTED)).json()
    b_token = (await b.get(f"/api/v1/evidence/{b_file['id']}/link")).json()["url"].split("token=")[1]

    before = await _fingerprint(intake, a, sub["id"])
    sid, aid, ev, link = sub["id"], city_a["id"], a_file["id"], a_link["id"]
    clar = f"/api/v1/submissions/{sid}/clarifications/{request_id}"
    pdf = {"files": {"file": ("x.pdf", h.pdf(), "application/pdf")}}
    calls = [
        # (method, path template as routed, concrete path, request kwargs, allowed statuses)
        ("GET", "/api/v1/cities/{city_id}", f"/api/v1/cities/{aid}", {}, {404}),
        ("PATCH", "/api/v1/cities/{city_id}", f"/api/v1/cities/{aid}",
         {"json": {"timezone": "Pacific/Honolulu", "language": "pt"}}, {404}),
        ("PATCH", "/api/v1/cities/{city_id}/facts", f"/api/v1/cities/{aid}/facts",
         {"json": {"population": 31_000, "reason": "B rewrites A"}}, {404}),
        ("GET", "/api/v1/cities/{city_id}/facts/changes", f"/api/v1/cities/{aid}/facts/changes", {}, {404}),
        ("GET", "/api/v1/cities/{city_id}/users", f"/api/v1/cities/{aid}/users", {}, {404}),
        ("POST", "/api/v1/cities/{city_id}/users", f"/api/v1/cities/{aid}/users",
         {"json": {"email": "mole@shelbyville.gov", "name": "Mole", "password": "sneaky-password"}}, {404}),
        ("GET", "/api/v1/evidence/{evidence_id}/link", f"/api/v1/evidence/{ev}/link", {}, {404}),
        ("GET", "/api/v1/evidence/{evidence_id}/link", f"/api/v1/evidence/{link}/link", {}, {404}),
        ("GET", "/api/v1/evidence/{evidence_id}/link", f"/api/v1/evidence/{a_frozen_file['id']}/link", {}, {404}),
        ("GET", "/api/v1/evidence/{evidence_id}/download", f"/api/v1/evidence/{ev}/download?token={b_token}", {},
         {403}),
        ("DELETE", "/api/v1/evidence/{evidence_id}", f"/api/v1/evidence/{ev}", {}, {404}),
        ("DELETE", "/api/v1/evidence/{evidence_id}", f"/api/v1/evidence/{link}", {}, {404}),
        ("GET", "/api/v1/submissions/{submission_id}", f"/api/v1/submissions/{sid}", {}, {404}),
        ("GET", "/api/v1/submissions/{submission_id}/frozen", f"/api/v1/submissions/{sid}/frozen", {}, {404}),
        ("POST", "/api/v1/submissions/{submission_id}/withdraw", f"/api/v1/submissions/{sid}/withdraw",
         {"json": {"reason": "mischief"}}, {404}),
        ("GET", "/api/v1/submissions/{submission_id}/clarifications",
         f"/api/v1/submissions/{sid}/clarifications", {}, {404}),
        ("POST", "/api/v1/submissions/{submission_id}/clarifications/{request_id}/criteria/{criterion_id}/files",
         f"{clar}/criteria/DG1/files", pdf, {404}),
        ("POST", "/api/v1/submissions/{submission_id}/clarifications/{request_id}/answer", f"{clar}/answer",
         {"json": {"answers": {"DG1": {"narrative": "B writes into A"}}}}, {404}),
        # A's appeal: neither read, filed nor given files by B.
        ("GET", "/api/v1/submissions/{submission_id}/appeal", f"/api/v1/submissions/{sid}/appeal", {}, {404}),
        ("POST", "/api/v1/submissions/{submission_id}/appeal", f"/api/v1/submissions/{sid}/appeal",
         {"json": {"criteria": [{"criterion_id": "DG1", "statement": "B appeals for A"}]}}, {404}),
        ("POST", "/api/v1/submissions/{submission_id}/appeal/criteria/{criterion_id}/files",
         f"/api/v1/submissions/{sid}/appeal/criteria/DG1/files", pdf, {404}),
        # Cycle-scoped endpoints act on the caller's own city only: B has no 2027 draft or snapshot.
        ("GET", "/api/v1/snapshots/{cycle}", f"/api/v1/snapshots/{DRAFT}", {}, {404}),
        ("GET", "/api/v1/assessments/{cycle}", f"/api/v1/assessments/{DRAFT}", {}, {404}),
        ("GET", "/api/v1/assessments/{cycle}/progress", f"/api/v1/assessments/{DRAFT}/progress", {}, {404}),
        ("GET", "/api/v1/assessments/{cycle}/responses/{criterion_id}",
         f"/api/v1/assessments/{DRAFT}/responses/DG1", {}, {404}),
        ("PUT", "/api/v1/assessments/{cycle}/responses/{criterion_id}", f"/api/v1/assessments/{DRAFT}/responses/DG1",
         {"json": {"response": "NO", "narrative": "B", "version": 1}}, {404}),
        ("GET", "/api/v1/assessments/{cycle}/carry-over", f"/api/v1/assessments/{DRAFT}/carry-over", {}, {404}),
        ("POST", "/api/v1/assessments/{cycle}/carry-over", f"/api/v1/assessments/{DRAFT}/carry-over", {"json": {}},
         {404}),
        ("POST", "/api/v1/assessments/{cycle}/criteria/{criterion_id}/files",
         f"/api/v1/assessments/{DRAFT}/criteria/DG1/files", pdf, {404}),
        ("POST", "/api/v1/assessments/{cycle}/criteria/{criterion_id}/links",
         f"/api/v1/assessments/{DRAFT}/criteria/DG1/links", {"json": {"url": "https://b.example.gov"}}, {404}),
        ("GET", "/api/v1/assessments/{cycle}/evidence", f"/api/v1/assessments/{DRAFT}/evidence", {}, {404}),
        ("POST", "/api/v1/assessments/{cycle}/submit", f"/api/v1/assessments/{DRAFT}/submit", {}, {404}),
    ]
    for method, _, path, kwargs, allowed in calls:
        r = await b.request(method, path, **kwargs)
        assert r.status_code in allowed, (method, path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), (method, path)
        assert "Springfield" not in r.text and "A's narrative" not in r.text, (method, path)

    # Endpoints that only ever address the caller's own data answer for B alone.
    own = {
        ("GET", "/api/v1/submissions"), ("GET", "/api/v1/me"), ("PATCH", "/api/v1/me"), ("POST", "/api/v1/snapshots/{cycle}"),
        ("POST", "/api/v1/assessments/{cycle}"), ("PUT", "/api/v1/assessments/{cycle}/responses"),
        ("GET", "/api/v1/snapshot/questions"), ("POST", "/api/v1/cities"), ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/cities/confirm"),
    }
    assert (await b.get("/api/v1/submissions")).json() == []
    assert (await b.get("/api/v1/me")).json()["city"]["id"] == city_b["id"]
    r = await b.put(f"/api/v1/assessments/{SUBMITTED}/responses", json={"responses": {"DG2": {"response": "NO"}}})
    assert r.status_code == 200 and r.json()["assessment_id"] != sub["id"]
    r = await b.post(f"/api/v1/snapshots/{DRAFT}", json={"answers": YES_ALL})
    assert r.status_code == 201 and r.json()["city_id"] == city_b["id"]
    r = await b.post(f"/api/v1/assessments/{DRAFT}")
    assert r.status_code == 201 and r.json()["city_id"] == city_b["id"] and r.json()["id"] != before["draft"]["id"]

    # Every intake API route is covered above.
    routes = {(m, path) for m, path, _ in api_routes(intake.apps["intake"]) if path.startswith("/api/v1")}
    covered = {(m, p) for m, p, *_ in calls} | own
    assert routes - covered == set(), routes - covered

    after = await _fingerprint(intake, a, sub["id"])
    after["objects"] = [k for k in after["objects"] if not k.startswith(city_b["id"])]
    before["objects"] = [k for k in before["objects"] if not k.startswith(city_b["id"])]
    b_rows = {e.id for e in await evidence_rows(intake)} - set(before["evidence"])
    after["evidence"] = sorted(set(after["evidence"]) - b_rows)
    assert after == before

    # An auditor's token is no city's: draft endpoints refuse it.
    from shared.infra.auth import Role
    from tests.conftest import token

    auditor = intake.client("intake", token(Role.AUDITOR, sub="auditor-1"))
    assert (await auditor.get(f"/api/v1/assessments/{DRAFT}")).status_code == 403
    assert (await auditor.delete(f"/api/v1/evidence/{ev}")).status_code == 403
    assert (await auditor.get(f"/api/v1/submissions/{sid}")).status_code == 200

"""The Data Snapshot gate, drafts saved one criterion at a time with optimistic
concurrency, the progress summary and the carry-over of an earlier cycle."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from services.intake.models import Assessment, City
from tests.intake.helpers import CATALOG, CYCLE, YES_ALL, city_data, draft, problem, register, save


async def test_snapshot_result_and_gate(intake):
    client, _ = await register(intake)
    questions = (await intake.client("intake").get("/api/v1/snapshot/questions?lang=es")).json()
    assert len(questions) == 8 and questions[0]["id"] == "SNAP1" and questions[0]["text"].startswith("¿")

    # The draft needs the snapshot first.
    body = problem(await client.post(f"/api/v1/assessments/{CYCLE}"), 409)
    assert body["code"] == "snapshot_needed" and "Data Snapshot" in body["detail"]

    body = problem(await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": {"SNAP1": True, "SNAP99": False}}), 422)
    fields = {e["field"] for e in body["errors"]}
    assert "answers.SNAP99" in fields and "answers.SNAP2" in fields and "answers.SNAP1" not in fields

    answers = {**YES_ALL, "SNAP4": False, "SNAP6": False}
    r = await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": answers})
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["eligibility"] == {"eligible": True, "reasons": [], "reason_kinds": [],
                                     "message": "Springfield is eligible: go on to the full Assessment."}
    assert [m["question_id"] for m in result["missing"]] == ["SNAP4", "SNAP6"]
    assert {m["area_name"] for m in result["missing"]} == {"Open Data", "Evaluations"}
    assert len(result["already_doing"]) == 6 and result["already_doing"][0]["area"] == "DG"

    again = problem(await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": YES_ALL}), 409)
    assert again["code"] == "snapshot_already_taken" and "already answered" in again["detail"] and "once per cycle" in again["detail"]
    assert (await client.get(f"/api/v1/snapshots/{CYCLE}")).json()["id"] == result["id"]
    problem(await client.get("/api/v1/snapshots/2030"), 404)

    r = await client.post(f"/api/v1/assessments/{CYCLE}")
    assert r.status_code == 201 and r.json()["catalog_version"] == "wwc-2019" and r.json()["status"] == "draft"
    again = await client.post(f"/api/v1/assessments/{CYCLE}")
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]


async def test_ineligible_cities_are_told_why(intake):
    # At the door: too small, or in a country the programme does not serve.
    async with intake.client("intake") as anon:
        body = problem(await anon.post("/api/v1/cities", json=city_data("Smallville", population=12_000)), 422)
        assert body["code"] == "ineligible_city" and body["errors"][0]["field"] == "population"
        assert body["detail"] == "Cities need at least 30,000 residents; Smallville has 12,000."
        body = problem(await anon.post("/api/v1/cities", json=city_data(
            "Lyon", country="FR", state="FR-69", population=520_000)), 422)
        assert body["code"] == "ineligible_city" and body["errors"][0]["field"] == "country"

    # A city registered before the rule (or whose population was corrected since) meets it
    # at its Data Snapshot, and cannot start an Assessment.
    small, city = await register(intake, "Smallville", population=45_000)
    async with intake.runtimes["intake"].db.transaction() as session:
        await session.execute(update(City).where(City.id == city["id"]).values(population=12_000))
    r = await small.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": YES_ALL})
    assert r.status_code == 201
    elig = r.json()["eligibility"]
    assert elig["eligible"] is False
    assert elig["reasons"] == ["Cities need at least 30,000 residents; Smallville has 12,000."]
    assert elig["reason_kinds"] == ["population"]
    body = problem(await small.post(f"/api/v1/assessments/{CYCLE}"), 409)
    assert body["code"] == "not_eligible"
    assert "Smallville has 12,000" in body["detail"]
    # Nor through the bulk import.
    body = problem(await small.put(f"/api/v1/assessments/{CYCLE}/responses",
                                   json={"responses": {"DG1": {"response": "NO"}}}), 409)
    assert "12,000" in body["detail"]

    async with intake.runtimes["intake"].db.sessionmaker() as session:
        assert (await session.scalars(select(Assessment))).all() == []


async def test_two_editors_never_overwrite_each_other(intake):
    alice, city = await draft(intake)
    await intake.invite_staff(alice, city["id"], {"email": "bob@springfield.gov", "name": "Bob Diaz",
                                                  "password": "bob-long-password"})
    token = (await intake.client("intake").post("/api/v1/auth/token", json={
        "email": "bob@springfield.gov", "password": "bob-long-password"})).json()["access_token"]
    bob = intake.client("intake", token)

    url = f"/api/v1/assessments/{CYCLE}/responses/DG1"
    first = await alice.get(url)
    assert first.json()["version"] == 0 and first.headers["etag"] == '"0"'
    # No version at all: refused, so nobody writes blind.
    problem(await alice.put(url, json={"response": "YES"}), 428)

    r = await alice.put(url, json={"response": "YES", "narrative": "Alice's text", "version": 0})
    assert r.status_code == 200 and r.json()["version"] == 1 and r.json()["updated_by_name"] == "Springfield Data Office"
    # Bob read version 0 too: his save is refused and names who changed it.
    body = problem(await bob.put(url, json={"response": "NO", "narrative": "Bob's text", "version": 0}), 409)
    assert body["criterion_id"] == "DG1" and body["current_version"] == 1
    assert body["updated_by_name"] == "Springfield Data Office" and "DG1" in body["detail"]
    assert body["current"] == {"response": "YES", "narrative": "Alice's text"}

    # Bob reloads and saves with If-Match; now Alice's stale save is refused.
    r = await bob.put(url, json={"response": "IN_PROGRESS", "narrative": "Merged"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    body = problem(await alice.put(url, json={"response": "NO", "version": 1}), 409)
    assert body["updated_by_name"] == "Bob Diaz" and body["current_version"] == 2

    # Two saves of the same version at the same moment: exactly one wins.
    results = await asyncio.gather(
        alice.put(url, json={"response": "YES", "narrative": "A", "version": 2}),
        bob.put(url, json={"response": "NO", "narrative": "B", "version": 2}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    final = (await alice.get(url)).json()
    winner = next(r for r in results if r.status_code == 200).json()
    assert final["version"] == 3 and final["narrative"] == winner["narrative"]

    problem(await alice.put(f"/api/v1/assessments/{CYCLE}/responses/XX9",
                            json={"response": "YES", "version": 0}), 404)
    body = problem(await alice.put(url, json={"response": "MAYBE", "version": 3}), 422)
    assert body["errors"][0]["field"] == "response"


async def test_progress_per_area(intake):
    client, _ = await draft(intake)
    await save(client, "DG1", "YES")
    await save(client, "DG2", "YES")
    await save(client, "DG3", "NO")
    await save(client, "OD1", "IN_PROGRESS")
    r = await client.post(f"/api/v1/assessments/{CYCLE}/criteria/DG1/links", json={"url": "https://data.example.gov/x"})
    assert r.status_code == 201
    p = (await client.get(f"/api/v1/assessments/{CYCLE}/progress")).json()
    assert (p["total"], p["answered"], p["yes_with_evidence"], p["yes_without_evidence"]) == (45, 4, 1, 1)
    areas = {a["area"]: a for a in p["areas"]}
    assert areas["DG"] == {"area": "DG", "name": "Data Governance", "total": 5, "answered": 3, "yes": 2,
                           "yes_with_evidence": 1, "yes_without_evidence": 1, "in_progress": 0, "no": 1}
    assert areas["OD"]["answered"] == 1 and areas["SE"]["answered"] == 0
    assert sum(a["total"] for a in p["areas"]) == len(CATALOG.criteria)
    assert p["ready_to_submit"] is False
    missing = {m["criterion_id"]: m["reason"] for m in p["missing"]}
    assert missing["DG2"].startswith("a YES needs evidence") and missing["SE1"] == "not answered"
    assert "DG1" not in missing and "DG3" not in missing


async def test_carry_over_from_previous_cycle(intake):
    client, _ = await draft(intake, cycle="2025")
    await save(client, "DG1", "YES", "Inventory since 2019", cycle="2025")
    await save(client, "DG2", "IN_PROGRESS", "Policy drafted", cycle="2025")
    await save(client, "EVAL1", "NO", "Not yet", cycle="2025")
    r = await client.post("/api/v1/assessments/2025/criteria/DG1/links", json={"url": "https://data.example.gov/inv"})
    assert r.status_code == 201

    problem(await client.get("/api/v1/assessments/2026/carry-over"), 404)  # no 2026 draft yet
    assert (await client.post("/api/v1/snapshots/2026", json={"answers": YES_ALL})).status_code == 201
    assert (await client.post("/api/v1/assessments/2026")).status_code == 201
    await save(client, "DG2", "YES", "Adopted this year", cycle="2026")

    proposal = (await client.get("/api/v1/assessments/2026/carry-over")).json()
    assert proposal["from_cycle"] == "2025"
    items = {i["criterion_id"]: i for i in proposal["items"]}
    assert set(items) == {"DG1", "DG2", "EVAL1"}
    assert items["DG1"]["will_copy"] and not items["DG2"]["will_copy"]
    assert items["DG2"]["current_response"] == "YES"

    r = await client.post("/api/v1/assessments/2026/carry-over", json={})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["copied"]) == ["DG1", "EVAL1"]
    assert r.json()["skipped"] == [{"criterion_id": "DG2", "reason": "already answered in this draft"}]

    view = (await client.get("/api/v1/assessments/2026")).json()
    by_id = {x["criterion_id"]: x for x in view["responses"]}
    assert (by_id["DG1"]["response"], by_id["DG1"]["narrative"]) == ("YES", "Inventory since 2019")
    assert by_id["DG1"]["evidence"] == []  # evidence is never carried over
    assert by_id["DG2"]["narrative"] == "Adopted this year"
    assert by_id["DG1"]["version"] == 1

    r = await client.post("/api/v1/assessments/2026/carry-over", json={"criteria": ["DG2"], "overwrite": True})
    assert r.json()["copied"] == ["DG2"]
    assert (await client.get("/api/v1/assessments/2026/responses/DG2")).json()["narrative"] == "Policy drafted"

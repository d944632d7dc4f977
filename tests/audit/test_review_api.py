"""The auditors' API against the real database (SQLite and PostgreSQL), NATS and Temporal:
one holder per case under concurrency, conflicts of interest, decisions that are never
overwritten silently, clarification rounds, and the four-eyes sign-off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.audit.console.console import AUDIT
from services.audit.console.trail_text import Words, describe
from services.audit.models import TrailRecord
from services.audit.rounds import service as rounds
from shared.contracts.events import ClarificationAnswered, CriterionAnswerSent, Subject
from shared.contracts.submission import EvidenceItem
from shared.infra.auth import Role
from shared.web.pages import format_datetime
from tests.audit.conftest import ANSWERS, CATALOG, decide, problem, submission
from tests.conftest import token

SHA = "5f" * 32


async def test_two_concurrent_claims_one_wins_the_other_gets_409(audit):
    await audit.auditor("ana", "Ana Auditor")
    await audit.auditor("ben", "Ben Auditor")
    for _ in range(4):  # several cases: the race must hold every time
        sid = await audit.open()
        async with audit.client("ana") as ana, audit.client("ben") as ben:
            answers = await asyncio.gather(ana.post(f"/api/v1/cases/{sid}/claim"),
                                           ben.post(f"/api/v1/cases/{sid}/claim"))
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        [won] = [r for r in answers if r.status_code == 200]
        [lost] = [r for r in answers if r.status_code == 409]
        winner = won.json()["holder"]
        body = problem(lost, 409, "case_taken")
        assert body["holder_id"] == winner["id"] and body["holder"] == winner["name"]
        case = await audit.case(sid)
        assert case.holder_id == winner["id"] and case.status == "in_review"
        assert [e["auditor_id"] for e in await audit.events(Subject.CASE_ASSIGNED, sid)] == [winner["id"]]


async def test_claim_assign_and_hand_back(audit):
    await audit.auditor("ana", "Ana Auditor")
    await audit.auditor("ben", "Ben Auditor")
    first, second, third = [await audit.open(submission(city_id=f"c{i}", name=f"City {i}")) for i in range(3)]
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        assert (await ana.post(f"/api/v1/cases/{first}/claim")).status_code == 200
        r = await ana.post("/api/v1/cases/assign", json={"submission_ids": [first, second, third],
                                                         "auditor_id": "ben"})
        assert r.status_code == 200
        assert [(x["assigned"], x["code"]) for x in r.json()] == [(False, "case_taken"), (True, None), (True, None)]
        problem(await ana.post("/api/v1/cases/assign", json={"submission_ids": [first], "auditor_id": "nobody"}),
                422, "unknown_auditor")
        mine = (await ben.get("/api/v1/cases", params={"assignee": "me"})).json()
        assert sorted(c["submission_id"] for c in mine) == sorted([second, third])
        problem(await ana.post(f"/api/v1/cases/{second}/release", json={}), 409, "not_holder")
        r = await ben.post(f"/api/v1/cases/{second}/release", json={"reason": "On leave next week."})
        assert r.status_code == 200 and r.json()["status"] == "queued" and r.json()["holder"] is None
        free = (await ben.get("/api/v1/cases", params={"assignee": "none"})).json()
        assert [c["submission_id"] for c in free] == [second]
    released = await audit.events(Subject.CASE_RELEASED, second)
    assert released == [{"submission_id": second, "case_id": (await audit.case(second)).id, "auditor_id": "ben",
                         "reason": "On leave next week."}]


async def test_the_queue_is_ordered_by_due_date_then_age_and_filters(audit):
    await audit.auditor("ana")
    ids = [await audit.open(submission(city_id=f"c{i}", name=f"City {i}", state=state, country=country))
           for i, (state, country) in enumerate([("IL", "US"), ("ON", "CA"), ("TX", "US")])]
    async with audit.client("ana") as ana:
        listed = (await ana.get("/api/v1/cases")).json()
        assert [c["submission_id"] for c in listed] == ids  # opened one after the other: same SLA, oldest first
        assert (await ana.get("/api/v1/cases", params={"state": "CA-ON"})).json()[0]["submission_id"] == ids[1]
        assert [c["submission_id"] for c in (await ana.get("/api/v1/cases", params={"region": "Midwest"})).json()] \
            == [ids[0], ids[2]]
        assert (await ana.get("/api/v1/cases", params={"cycle": "2027"})).json() == []
        assert (await ana.get("/api/v1/cases", params={"status": "signoff"})).json() == []
        assert (await ana.get("/api/v1/cases", params={"population_band": "100K-250K"})).status_code == 200
        first = listed[0]
        assert first["total"] == 45 and first["can_claim"] and first["conflict"] is None and not first["overdue"]
        assert datetime.fromisoformat(first["due_at"]) - datetime.fromisoformat(first["opened_at"]) == timedelta(days=21)


async def test_a_conflicted_auditor_cannot_claim_be_assigned_or_sign_off(audit):
    await audit.auditor("ana")
    await audit.auditor("ben")
    await audit.auditor("cleo")
    il = await audit.open(submission(city_id="c-springfield", state="Illinois"))
    on = await audit.open(submission(city_id="c-toronto", name="Toronto", state="ON", country="CA"))
    async with audit.client("ana") as ana, audit.client("ben") as ben, audit.client("cleo") as cleo:
        # Ben holds the Illinois case; declaring a conflict with Illinois hands it back.
        assert (await ben.post(f"/api/v1/cases/{il}/claim")).status_code == 200
        r = await ben.post("/api/v1/me/conflicts", json={"scope": "state", "country": "US", "state": "IL",
                                                         "reason": "My spouse works for the State of Illinois."})
        assert r.status_code == 201, r.text
        assert r.json()["conflict"]["key"] == "state:US-IL" and r.json()["released"] == [il]
        queue = {c["submission_id"]: c for c in (await ben.get("/api/v1/cases")).json()}
        assert queue[il]["conflict"] == "state:US-IL" and not queue[il]["can_claim"]
        assert queue[on]["conflict"] is None and queue[on]["can_claim"]
        body = problem(await ben.post(f"/api/v1/cases/{il}/claim"), 403, "conflict_of_interest")
        assert body["conflict"] == "state:US-IL"
        [result] = (await ana.post("/api/v1/cases/assign", json={"submission_ids": [il], "auditor_id": "ben"})).json()
        assert (result["assigned"], result["code"]) == (False, "conflict_of_interest")
        # Operators see who is conflicted with what.
        async with audit.client(bearer=token(Role.OPERATOR, sub="op-1")) as op:
            staff = {a["user_id"]: a for a in (await op.get("/api/v1/auditors")).json()}
        assert [c["key"] for c in staff["ben"]["conflicts"]] == ["state:US-IL"]

        # Sign-off: Ana reviews, Ben (conflicted) may not sign off, Cleo may.
        assert (await ana.post(f"/api/v1/cases/{il}/claim")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{il}/decisions/confirm-remaining")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{il}/signoff/request")).status_code == 200
        digest = (await ana.get(f"/api/v1/cases/{il}/signoff")).json()["decisions_hash"]
        problem(await ben.post(f"/api/v1/cases/{il}/signoff/approve", json={"decisions_hash": digest}), 403,
                "conflict_of_interest")
        problem(await ben.post(f"/api/v1/cases/{il}/signoff/return", json={"comments": "x"}), 403,
                "conflict_of_interest")
        r = await cleo.post(f"/api/v1/cases/{il}/signoff/approve", json={"decisions_hash": digest})
        assert r.status_code == 200 and r.json()["status"] == "completed"

        # Withdrawn, the conflict no longer stops Ben.
        conflict_id = (await ben.get("/api/v1/me/conflicts")).json()[0]["id"]
        assert (await ben.delete("/api/v1/me/conflicts", params={"conflict_id": conflict_id})).status_code == 204
        assert (await ben.get("/api/v1/me/conflicts")).json() == []


async def test_decisions_carry_reasons_evidence_hashes_and_are_never_overwritten(audit):
    await audit.auditor("ana")
    await audit.auditor("ben")
    evidence = [EvidenceItem(id="ev-inventory", criterion_id="DG1", kind="file", filename="inventory.pdf",
                             object_key="c1/2026/DG1/a.pdf", size=1200, sha256=SHA, content_type="application/pdf"),
                EvidenceItem(id="ev-portal", criterion_id="DG1", kind="link", url="https://data.example.gov/inv")]
    sid = await audit.open(submission(evidence=evidence))
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        problem(await decide(ana, sid, "DG1", "YES"), 409, "not_holder")  # claim first
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        async with audit.client(bearer=token(Role.OPERATOR, sub="op-1")) as op:
            problem(await decide(op, sid, "DG1", "YES"), 403, "forbidden")
        problem(await decide(ben, sid, "DG1", "YES"), 409, "not_holder")
        body = problem(await decide(ana, sid, "DG1", "IN_PROGRESS"), 422, "decision_invalid")
        assert [e["field"] for e in body["errors"]] == ["reason_code", "explanation", "what_would_satisfy"]
        problem(await decide(ana, sid, "DG1", "NO", reason="not_a_code", explanation="x", satisfy="y"), 422,
                "decision_invalid")
        problem(await decide(ana, sid, "XX9", "YES"), 404, "not_found")

        r = await decide(ana, sid, "DG1", "IN_PROGRESS", reason="outdated_evidence",
                         explanation="The inventory submitted dates from 2019.",
                         satisfy="An inventory updated in the last 12 months.")
        assert r.status_code == 200, r.text
        saved = r.json()
        assert saved["changed"] and saved["version"] == 1 and saved["decided_by"] == "ana"
        assert saved["reason_text"] == "The evidence is older than the time period the criterion covers."
        assert [(e["id"], e["fingerprint"]) for e in saved["evidence"]] == [
            ("ev-inventory", SHA), ("ev-portal", "https://data.example.gov/inv")]

        # Two tabs saving over version 1: one wins, the other is told, nothing is lost silently.
        first, second = await asyncio.gather(
            decide(ana, sid, "DG1", "NO", version=1, reason="requirement_not_met", explanation="No inventory.",
                   satisfy="A published inventory."),
            decide(ana, sid, "DG1", "YES", version=1))
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        lost = first if first.status_code == 409 else second
        assert problem(lost, 409, "decision_conflict")["current_version"] == 2
        r = await decide(ana, sid, "DG2", ANSWERS["DG2"], evidence_ids=[])
        assert r.status_code == 200 and not r.json()["changed"]
        problem(await decide(ana, sid, "DG2", ANSWERS["DG2"]), 409, "decision_conflict")  # version 0 again
        problem(await decide(ana, sid, "DG3", ANSWERS["DG3"], evidence_ids=["ev-inventory"]), 422, "decision_invalid")

        case = (await ana.get(f"/api/v1/cases/{sid}")).json()
        dg1 = next(c for c in case["criteria"] if c["criterion_id"] == "DG1")
        assert dg1["decision"]["version"] == 2 and dg1["narrative"] == "Springfield on DG1."
        assert [e["id"] for e in dg1["evidence"]] == ["ev-inventory", "ev-portal"]
        assert case["case"]["decided"] == 2
        es = (await ana.get(f"/api/v1/cases/{sid}", params={"lang": "es"})).json()
        assert es["criteria"][0]["text"] == CATALOG.text(CATALOG.criterion("DG1"), "es") != dg1["text"]


async def test_rounds_are_limited_and_bring_the_city_answers_back(audit):
    await audit.auditor("ana")
    sid = await audit.open()
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        body = problem(await ana.post(f"/api/v1/cases/{sid}/clarifications", json={
            "criteria": ["DG1", "ZZ1"], "message": "Please send the inventory.",
            "due_at": (datetime.now(UTC) + timedelta(days=90)).isoformat()}), 422, "round_invalid")
        assert {e["field"] for e in body["errors"]} == {"criteria", "due_at"}
        r = await ana.post(f"/api/v1/cases/{sid}/clarifications", json={
            "criteria": ["DG1", "OD3"], "message": "Please send the current data inventory."})
        assert r.status_code == 201, r.text
        asked = r.json()
        assert asked["number"] == 1 and asked["status"] == "open"
        due = datetime.fromisoformat(asked["due_at"]) - datetime.fromisoformat(asked["requested_at"])
        assert timedelta(days=10) - timedelta(seconds=5) < due <= timedelta(days=10)
        assert (await audit.case(sid)).status == "clarification"
        problem(await ana.post(f"/api/v1/cases/{sid}/clarifications", json={"criteria": ["DG2"], "message": "x"}),
                409, "round_open")
        problem(await ana.post(f"/api/v1/cases/{sid}/signoff/request"), 409, "round_open")
        # Decisions go on while the city answers.
        assert (await decide(ana, sid, "DG2", ANSWERS["DG2"])).status_code == 200
    [event] = await audit.events(Subject.CLARIFICATION_REQUESTED, sid)
    assert event["request_id"] == asked["id"] and event["criteria"] == ["DG1", "OD3"]

    # The city answers through intake: its event brings the new narrative and a file.
    new_file = EvidenceItem(id="ev-new", criterion_id="DG1", kind="file", filename="inventory-2026.pdf",
                            object_key="k", size=10, sha256=SHA, content_type="application/pdf")
    async with audit.runtime.db.transaction() as session:
        assert await rounds.record_answer(session, ClarificationAnswered(
            submission_id=sid, request_id=asked["id"], answered_at=datetime.now(UTC), answered_by="city-user",
            answers={"DG1": CriterionAnswerSent(narrative="The 2026 inventory is attached.", evidence=[new_file]),
                     "OD3": CriterionAnswerSent(narrative="Usage report online.")}))
    assert (await audit.case(sid)).status == "in_review"
    async with audit.client("ana") as ana:
        case = (await ana.get(f"/api/v1/cases/{sid}")).json()
        dg1 = next(c for c in case["criteria"] if c["criterion_id"] == "DG1")
        assert dg1["narrative"] == "Springfield on DG1."  # the old one, beside the new
        assert dg1["round_answers"][0]["narrative"] == "The 2026 inventory is attached."
        assert dg1["round_answers"][0]["evidence"][0]["round"] == 1 and dg1["asked_in_rounds"] == [1]
        agenda = {i["criterion_id"]: i["reasons"] for i in (await ana.get(f"/api/v1/cases/{sid}/agenda")).json()}
        assert agenda["DG1"] == ["round_answered"] and agenda["OD3"] == ["round_answered"]
        # A decision may name the new file as what it looked at.
        r = await decide(ana, sid, "DG1", "YES", evidence_ids=["ev-new"])
        assert r.status_code == 200 and r.json()["evidence"] == [
            {"id": "ev-new", "fingerprint": SHA, "name": "inventory-2026.pdf", "round": 1}]
        assert (await ana.post(f"/api/v1/cases/{sid}/clarifications", json={
            "criteria": ["GM1"], "message": "And the memo."})).status_code == 201
        await audit.activities.close_round(rounds_closed(sid, (await audit.case(sid)).id,
                                                         (await ana.get(f"/api/v1/cases/{sid}/clarifications"))
                                                         .json()[1]["id"]))
        problem(await ana.post(f"/api/v1/cases/{sid}/clarifications", json={
            "criteria": ["GM2"], "message": "One more."}), 409, "round_limit_reached")


def rounds_closed(sid: str, case_id: str, request_id: str):
    from certification.activities import RoundClosed

    return RoundClosed(submission_id=sid, case_id=case_id, request_id=request_id)


async def test_four_eyes_sign_off_returns_once_then_approves_what_was_read(audit):
    for who in ("ana", "ben", "cleo"):
        await audit.auditor(who)
    sid = await audit.open()
    changed = {"DG1": ("IN_PROGRESS", "documents_not_submitted", "The requested documents were not submitted.",
                       "The data inventory."),
               "GM1": ("NO", "requirement_not_met", "The memo does not set goals.", "A memo that sets goals.")}
    async with audit.client("ana") as ana, audit.client("ben") as ben, audit.client("cleo") as cleo:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        for cid, (to, code, why, satisfy) in changed.items():
            assert (await decide(ana, sid, cid, to, reason=code, explanation=why, satisfy=satisfy)).status_code == 200
        body = problem(await ana.post(f"/api/v1/cases/{sid}/signoff/request"), 409, "decisions_incomplete")
        assert body["missing"] == 43 and body["errors"][0]["field"] == "DG2"
        assert (await ana.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")).json()["confirmed"][0] == "DG2"
        r = await ana.post(f"/api/v1/cases/{sid}/signoff/request")
        assert r.status_code == 200 and r.json()["status"] == "signoff" and r.json()["decided"] == 45
        digest = r.json()["decisions_hash"]
        problem(await decide(ana, sid, "DG1", "YES", version=1), 409, "case_state")  # frozen while in sign-off
        problem(await ana.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest}), 403,
                "four_eyes")
        problem(await ben.post(f"/api/v1/cases/{sid}/signoff/return", json={"comments": ""}), 422, "invalid_input")

        # Ben returns it once with comments; Ana changes one more response and resubmits.
        r = await ben.post(f"/api/v1/cases/{sid}/signoff/return",
                           json={"comments": "GM2: the policy is a draft; please look again."})
        assert r.status_code == 200 and r.json()["status"] == "in_review"
        assert (await audit.case(sid)).holder_id == "ana"
        [returned] = await audit.events(Subject.SIGNOFF_RETURNED, sid)
        assert returned["comments"].startswith("GM2: the policy") and returned["reviewer_id"] == "ana"
        gm2 = next(c for c in (await ana.get(f"/api/v1/cases/{sid}")).json()["criteria"] if c["criterion_id"] == "GM2")
        r = await decide(ana, sid, "GM2", "IN_PROGRESS", version=gm2["decision"]["version"],
                         reason="still_in_development", explanation="The policy is a draft.",
                         satisfy="The policy, adopted.")
        assert r.status_code == 200, r.text
        digest2 = (await ana.post(f"/api/v1/cases/{sid}/signoff/request")).json()["decisions_hash"]
        assert digest2 != digest
        problem(await ben.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest}), 409,
                "decisions_changed")
        r = await ben.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest2})
        assert r.status_code == 200, r.text
        signed = r.json()
        assert signed["status"] == "completed" and signed["approved_by"] == "ben"
        assert signed["approved_hash"] == digest2
        assert [h["action"] for h in signed["history"]] == ["requested", "returned", "requested", "approved"]
        problem(await cleo.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest2}), 409,
                "case_state")

    [done] = await audit.events(Subject.REVIEW_COMPLETED, sid)
    assert done["approved_by"] == "ben" and done["reviewer_id"] == "ana" and done["decisions_hash"] == digest2
    assert done["corrections"] == 3
    assert {c["criterion"]: (c["from_response"], c["to_response"], c["reason_code"], c["what_would_satisfy"])
            for c in done["changes"]} == {
        "DG1": ("YES", "IN_PROGRESS", "documents_not_submitted", "The data inventory."),
        "GM1": (ANSWERS["GM1"], "NO", "requirement_not_met", "A memo that sets goals."),
        "GM2": ("YES", "IN_PROGRESS", "still_in_development", "The policy, adopted.")}
    assert done["final_responses"] == {**ANSWERS, "DG1": "IN_PROGRESS", "GM1": "NO", "GM2": "IN_PROGRESS"}
    async with audit.client("cleo") as cleo:  # the approval anchors the trail outside audit's database
        records = (await cleo.get(f"/api/v1/cases/{sid}/trail")).json()["records"]
    assert records[-1]["action"] == "signoff.approved" and done["trail_head"] == records[-1]["hash"]


async def test_a_decider_who_handed_the_case_back_cannot_approve_it(audit):
    for who in ("ana", "ben", "cleo"):
        await audit.auditor(who)
    sid = await audit.open()
    async with audit.client("ana") as ana, audit.client("ben") as ben, audit.client("cleo") as cleo:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        assert (await decide(ana, sid, "DG1", "YES")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{sid}/release", json={})).status_code == 200
        assert (await ben.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        assert (await ben.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")).status_code == 200
        digest = (await ben.post(f"/api/v1/cases/{sid}/signoff/request")).json()["decisions_hash"]
        body = problem(await ana.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest}),
                       403, "four_eyes")
        assert body["role"] == "decider"
        assert (await cleo.post(f"/api/v1/cases/{sid}/signoff/approve",
                                json={"decisions_hash": digest})).status_code == 200


async def test_review_call_notes_link_to_the_decisions_they_changed(audit):
    await audit.auditor("ana")
    sid = await audit.open()
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        problem(await ana.post(f"/api/v1/cases/{sid}/calls", json={
            "held_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "notes": "x"}), 422, "invalid_input")
        r = await ana.post(f"/api/v1/cases/{sid}/calls", json={
            "held_at": datetime.now(UTC).isoformat(), "attendees": "Jordan Lee (city), Ana (auditor)",
            "notes": "The city explained the evaluation policy is only used by two departments.",
            "criteria": ["EVAL1"]})
        assert r.status_code == 201, r.text
        note = r.json()
        r = await decide(ana, sid, "EVAL1", "IN_PROGRESS" if ANSWERS["EVAL1"] == "YES" else "NO",
                         reason="clarified_on_review_call", explanation="Only two departments use it.",
                         satisfy="The policy applied citywide.", call_note_id=note["id"])
        assert r.status_code == 200, r.text
        problem(await decide(ana, sid, "EVAL2", "YES", call_note_id="no-such-note"), 422, "decision_invalid")
        [listed] = (await ana.get(f"/api/v1/cases/{sid}/calls")).json()
        assert listed["decisions"] == ["EVAL1"] and listed["criteria"] == ["EVAL1"]
        agenda = (await ana.get(f"/api/v1/cases/{sid}/agenda")).json()
        assert agenda[0]["criterion_id"] == "EVAL1" and agenda[0]["reasons"] == ["changed"]


async def test_a_withdrawn_submission_closes_its_case(audit):
    from services.audit.cases import service as cases

    await audit.auditor("ana")
    sid = await audit.open()
    async with audit.runtime.db.transaction() as session:
        await cases.withdraw(session, sid, "Budget freeze.", by_name="Lia Souza")
    async with audit.client("ana") as ana:
        problem(await ana.post(f"/api/v1/cases/{sid}/claim"), 409, "case_state")
        assert (await ana.get("/api/v1/cases")).json() == []
        assert [c["status"] for c in (await ana.get("/api/v1/cases", params={"status": "withdrawn"})).json()] == [
            "withdrawn"]
    # The trail names who withdrew, in each language.
    async with audit.runtime.db.sessionmaker() as session:
        [record] = (await session.scalars(select(TrailRecord).where(TrailRecord.action == "case.withdrawn"))).all()
    for lang, sentence in (("en", "closed the case: Lia Souza withdrew the city's submission."),
                           ("es", "cerró el caso: Lia Souza retiró el envío de la ciudad."),
                           ("pt", "encerrou o caso: Lia Souza retirou o envio da cidade.")):
        words = Words(t=AUDIT.translator(lang), names={}, catalog=None, fmt_dt=format_datetime)
        assert describe(record, words).what == sentence

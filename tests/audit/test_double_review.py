"""Double review for calibration (issue 21.2), through the API against the real database:
a sampled case gets a second reviewer drawn at random (never its holder), who decides
every criterion blind; neither reviewer sees the other's decisions before the sign-off
request, which waits for the second review; every difference needs a resolution before
approval, and taking the second changes the decision the city gets."""

from __future__ import annotations

from services.audit import domain
from services.audit.config import AuditOptions
from shared.contracts.events import Subject
from tests.audit.conftest import ANSWERS, decide, problem
from tests.audit.doubles import first_review, second_review

AUDITORS = ("ana", "ben", "cleo", "dora")


async def test_a_blind_second_review_is_resolved_at_sign_off(doubled):
    audit = doubled
    for who in AUDITORS:
        await audit.auditor(who)
    sid = await audit.open()
    assert (await audit.case(sid)).double_review
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        problem(await ana.post(f"/api/v1/cases/{sid}/second-review/assign", json={"auditor_id": "ana"}), 403,
                "four_eyes")
        r = await ana.post(f"/api/v1/cases/{sid}/second-review/assign", json={"seed": 3})
        assert r.status_code == 200, r.text
        second = r.json()["second_reviewer_id"]
        assert second in {"ben", "cleo", "dora"} and r.json()["double_review"]
        # The same seed draws the same auditor among the same candidates.
        other = await audit.open()
        assert (await ana.post(f"/api/v1/cases/{other}/claim")).status_code == 200
        again = await ana.post(f"/api/v1/cases/{other}/second-review/assign", json={"seed": 3})
        assert again.json()["second_reviewer_id"] == second
        problem(await ana.post(f"/api/v1/cases/{sid}/second-review/assign",
                               json={"auditor_id": next(a for a in AUDITORS if a not in {"ana", second})}), 409,
                "second_reviewer_assigned")
    approver = next(a for a in AUDITORS if a not in {"ana", second})

    async with audit.client("ana") as ana, audit.client(second) as sec, audit.client(approver) as app:
        # The second reviewer never holds the case.
        third = await audit.open()
        r = await ana.post(f"/api/v1/cases/{third}/second-review/assign", json={"auditor_id": second})
        assert r.status_code == 200, r.text
        problem(await sec.post(f"/api/v1/cases/{third}/claim"), 403, "four_eyes")
        await first_review(ana, sid, {"DG1": "IN_PROGRESS"})
        problem(await ana.post(f"/api/v1/cases/{sid}/signoff/request"), 409, "second_review_incomplete")

        # Blind: the second reviewer reads the case without the first decisions, and not its trail.
        case = (await sec.get(f"/api/v1/cases/{sid}")).json()
        assert all(c["decision"] is None for c in case["criteria"])
        problem(await sec.get(f"/api/v1/cases/{sid}/trail"), 403, "blind_review")
        problem(await sec.get(f"/api/v1/cases/{sid}/signoff"), 403, "blind_review")
        problem(await sec.get(f"/api/v1/cases/{sid}/agenda"), 403, "blind_review")  # it lists the changes
        assert case["case"]["decided"] == len(ANSWERS) and case["case"]["changed"] == 0
        problem(await ana.put(f"/api/v1/cases/{sid}/second-review/DG1", json={"response": "YES"}), 403,
                "not_second_reviewer")
        r = await sec.put(f"/api/v1/cases/{sid}/second-review/GM1", json={"response": "NO"})
        problem(r, 422, "decision_invalid")  # the same rules as a decision: a change needs its reasons
        await second_review(sec, sid, {"GM1": "NO", "EVAL4": "IN_PROGRESS"})
        # ...and the first auditor does not see the second's before sign-off.
        mine = (await ana.get(f"/api/v1/cases/{sid}/second-review")).json()
        assert mine["complete"] and mine["decisions"] is None and mine["differences"] == []
        assert len((await sec.get(f"/api/v1/cases/{sid}/second-review")).json()["decisions"]) == len(ANSWERS)
        assert "NO" not in str([r["after"] for r in (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["records"]
                                if r["action"] == "second_review.decided"])

        r = await ana.post(f"/api/v1/cases/{sid}/signoff/request")
        assert r.status_code == 200, r.text
        problem(await sec.put(f"/api/v1/cases/{sid}/second-review/DG1", json={"response": "YES"}), 409,
                "case_state")  # disclosed: the second review is closed
        disclosed = (await ana.get(f"/api/v1/cases/{sid}/second-review")).json()
        assert [(d["criterion_id"], d["first"], d["second"], d["outcome"]) for d in disclosed["differences"]] == [
            ("DG1", "IN_PROGRESS", "YES", None), ("EVAL4", "NO", "IN_PROGRESS", None), ("GM1", "YES", "NO", None)]

        digest = (await app.get(f"/api/v1/cases/{sid}/signoff")).json()["decisions_hash"]
        body = problem(await app.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest}),
                       409, "differences_unresolved")
        assert [e["field"] for e in body["errors"]] == ["DG1", "EVAL4", "GM1"]
        problem(await sec.post(f"/api/v1/cases/{sid}/second-review/DG1/resolve",
                               json={"outcome": "keep_first", "note": "Mine."}), 403, "four_eyes")
        problem(await app.post(f"/api/v1/cases/{sid}/second-review/DG2/resolve",
                               json={"outcome": "keep_first", "note": "No difference."}), 404, "not_found")
        for cid, outcome in (("DG1", "keep_first"), ("EVAL4", "keep_first"), ("GM1", "take_second")):
            r = await app.post(f"/api/v1/cases/{sid}/second-review/{cid}/resolve",
                               json={"outcome": outcome, "note": f"Evidence read again for {cid}."})
            assert r.status_code == 200, r.text
        problem(await app.post(f"/api/v1/cases/{sid}/second-review/GM1/resolve",
                               json={"outcome": "keep_first", "note": "Changed my mind."}), 409, "already_resolved")
        gm1 = next(c for c in (await app.get(f"/api/v1/cases/{sid}")).json()["criteria"] if c["criterion_id"] == "GM1")
        assert (gm1["decision"]["response"], gm1["decision"]["version"], gm1["decision"]["decided_by"]) == \
            ("NO", 2, second)
        signed = (await app.get(f"/api/v1/cases/{sid}/signoff")).json()
        assert second in signed["took_part"]
        r = await app.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": signed["decisions_hash"]})
        assert r.status_code == 200, r.text
        actions = [r["action"] for r in (await sec.get(f"/api/v1/cases/{sid}/trail")).json()["records"]]

    [done] = await audit.events(Subject.REVIEW_COMPLETED, sid)
    # The first decisions stand for the city except where the resolution took the second.
    assert done["final_responses"] == {**ANSWERS, "DG1": "IN_PROGRESS", "GM1": "NO"}
    assert actions.count("second_review.decided") == len(ANSWERS)
    assert {"second_review.assigned", "second_review.disclosed", "second_review.resolved"} <= set(actions)
    assert actions.index("second_review.disclosed") < actions.index("signoff.requested")


async def test_a_case_outside_the_sample_has_no_second_review(doubled):
    audit = doubled
    audit.options.double_review_share = 0.1  # the programme's share (the fixture picks every case)
    await audit.auditor("ana")
    sid = next(s for s in (f"sub-{i}" for i in range(100))
               if not domain.picked_for_double_review(AuditOptions().double_review_seed, s, 0.1))
    await audit.open(submission_id=sid)
    assert not (await audit.case(sid)).double_review
    picked = next(s for s in (f"sub-{i}" for i in range(100))
                  if domain.picked_for_double_review(AuditOptions().double_review_seed, s, 0.1))
    await audit.open(submission_id=picked)
    assert (await audit.case(picked)).double_review
    async with audit.client("ana") as ana:
        problem(await ana.post(f"/api/v1/cases/{sid}/second-review/assign", json={}), 409, "not_double_review")
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        assert (await decide(ana, sid, "DG1", "YES")).status_code == 200
        assert (await ana.get(f"/api/v1/cases/{sid}/second-review")).json()["double_review"] is False

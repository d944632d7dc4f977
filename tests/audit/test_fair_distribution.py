"""Fair distribution of work: each auditor's open cases and nearest due date, and
automatic assignment by workload or at random (from a seed), never to a conflicted
auditor, with the balance afterwards (API against the real database and NATS)."""

from __future__ import annotations

import random

from services.audit.cases.balance import Load, pick
from tests.audit.conftest import problem, submission


def test_pick_takes_the_least_loaded_then_the_first_name_and_is_seeded_at_random():
    ana, ben, cleo = Load("a", "Ana", 3, None), Load("b", "Ben", 1, None), Load("c", "Cleo", 1, None)
    assert pick([ana, cleo, ben]) is ben  # fewest open cases; Ben before Cleo by name
    assert pick([]) is None
    # At random: the same seed, the same choice, whatever the order of the rows.
    assert pick([ana, ben, cleo], random.Random(7)) is pick([cleo, ben, ana], random.Random(7))


async def test_auto_assign_spreads_by_workload_skips_conflicts_and_reports_the_balance(audit):
    await audit.auditor("ana", "Ana Ramos")
    await audit.auditor("ben", "Ben Okafor")
    await audit.auditor("cleo", "Cleo Silva")
    ohio = [await audit.open(submission(city_id=f"oh{i}", name=f"Ohio {i}", state="US-OH")) for i in range(5)]
    texas = await audit.open(submission(city_id="tx", name="Austin", state="US-TX"))
    held = await audit.open(submission(city_id="held", name="Held"))
    async with audit.client("ana") as ana, audit.client("ben") as ben, audit.client("cleo") as cleo:
        assert (await ana.post(f"/api/v1/cases/{held}/claim")).status_code == 200  # Ana starts with one
        for who in (ben, cleo):  # both others are conflicted with Texas
            r = await who.post("/api/v1/me/conflicts", json={"scope": "state", "country": "US", "state": "TX",
                                                             "reason": "Family in the state government."})
            assert r.status_code == 201, r.text
        r = await ana.post("/api/v1/cases/auto-assign", json={"submission_ids": [texas, *ohio, held]})
        assert r.status_code == 200, r.text
        results = {x["submission_id"]: x for x in r.json()["results"]}
        assert results[texas]["auditor_id"] == "ana"  # the only one free of a conflict
        assert (results[held]["assigned"], results[held]["code"]) == (False, "case_taken")
        # Ana holds two (her own and Texas), so Ohio goes to Ben and Cleo in turn until all hold two.
        assert [results[s]["auditor_id"] for s in ohio] == ["ben", "cleo", "ben", "cleo", "ana"]
        balance = {b["auditor_id"]: b["open_cases"] for b in r.json()["balance"]}
        assert balance == {"ana": 3, "ben": 2, "cleo": 2}
        assert all(b["next_due"] for b in r.json()["balance"])
        assert {b["auditor_id"]: b["open_cases"] for b in (await ben.get("/api/v1/workload")).json()} == balance
        # Nobody left without a conflict: said per case, nothing assigned.
        other = await audit.open(submission(city_id="tx2", name="Dallas", state="US-TX"))
        r = await ana.post("/api/v1/me/conflicts", json={"scope": "state", "country": "US", "state": "TX",
                                                         "reason": "I lived in Dallas."})
        assert r.status_code == 201, r.text
        [result] = (await ana.post("/api/v1/cases/auto-assign", json={"submission_ids": [other]})).json()["results"]
        assert (result["assigned"], result["code"]) == (False, "no_eligible_auditor")
        assert (await audit.case(other)).holder_id is None
        problem(await ana.post("/api/v1/cases/auto-assign", json={"submission_ids": []}), 422, "invalid_input")


async def test_random_assignment_is_reproducible_from_its_seed(audit):
    for who in ("ana", "ben", "cleo"):
        await audit.auditor(who)

    async def draw(seed: int) -> list[str]:
        ids = [await audit.open(submission(city_id=f"r{seed}-{i}", name=f"R {i}")) for i in range(6)]
        async with audit.client("ana") as ana:
            r = await ana.post("/api/v1/cases/auto-assign", json={"submission_ids": ids, "strategy": "random",
                                                                   "seed": seed})
        assert r.status_code == 200, r.text
        return [x["auditor_id"] for x in r.json()["results"]]

    first, again = await draw(11), await draw(11)
    assert first == again and len(set(first)) > 1

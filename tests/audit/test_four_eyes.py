"""Four eyes over the whole review, through the real API and database: nobody who decided
any criterion (a superseded decision included) or submitted the review for sign-off
approves it, and no sequence of claim, assign, release, decide, request sign-off, return
and approve by three auditors and an operator leaves a case nobody can move (hypothesis
drives the API; the pure rules' own property test is tests/unit/test_review_liveness.py)."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.audit import domain
from services.audit.domain import CaseState, Move, Review
from services.audit.errors import FourEyes, WrongState
from shared.infra.auth import Role
from tests.audit.conftest import decide, problem
from tests.conftest import token

AUDITORS = ("ana", "ben", "cleo")
OPERATOR = "olga"


async def staff(audit) -> None:
    for who in AUDITORS:
        await audit.auditor(who)
    audit.tokens[OPERATOR] = token(Role.OPERATOR, sub=OPERATOR)


async def act(audit, sid: str, actor: str, action: Move, target: str | None = None):
    """One action through the API, as the console would do it (reading what it needs first)."""
    async with audit.client(actor) as c:
        if action == Move.CLAIM:
            return await c.post(f"/api/v1/cases/{sid}/claim")
        if action == Move.ASSIGN:
            return await c.post("/api/v1/cases/assign", json={"submission_ids": [sid], "auditor_id": target})
        if action == Move.RELEASE:
            return await c.post(f"/api/v1/cases/{sid}/release", json={})
        if action == Move.DECIDE:  # look at DG1 again, then confirm what is left
            case = await c.get(f"/api/v1/cases/{sid}")
            dg1 = next((x for x in case.json().get("criteria", []) if x["criterion_id"] == "DG1"), None)
            version = (dg1 or {}).get("decision") and dg1["decision"]["version"] or 0
            r = await decide(c, sid, "DG1", "YES", version=version)
            if r.status_code != 200:
                return r
            return await c.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")
        if action == Move.REQUEST:
            return await c.post(f"/api/v1/cases/{sid}/signoff/request")
        if action == Move.RETURN:
            return await c.post(f"/api/v1/cases/{sid}/signoff/return", json={"comments": "Please look again."})
        digest = (await c.get(f"/api/v1/cases/{sid}/signoff")).json().get("decisions_hash", "0" * 64)
        return await c.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest})


async def took_part(audit, sid: str) -> set[str]:
    """From the trail (the history), not from the decisions as they stand."""
    async with audit.client("ana") as c:
        records = (await c.get(f"/api/v1/cases/{sid}/trail")).json()["records"]
    return {r["actor_id"] for r in records if r["action"] in ("decision.saved", "decisions.confirmed",
                                                              "signoff.requested")}


async def test_the_reported_deadlock_is_gone(audit):
    """Ben decides and requests sign-off, Ana returns it, Ben hands it back, Ana claims and
    requests sign-off without deciding: neither may approve or return (both took part), but
    Ana can hand it back, and the review is completed by Cleo once it is submitted again."""
    await staff(audit)
    sid = await audit.open()
    for actor, action in [("ben", Move.CLAIM), ("ben", Move.DECIDE), ("ben", Move.REQUEST), ("ana", Move.RETURN),
                          ("ben", Move.RELEASE), ("ana", Move.CLAIM), ("ana", Move.REQUEST)]:
        r = await act(audit, sid, actor, action)
        assert r.status_code == 200, (actor, action, r.text)
    for who in ("ana", "ben"):
        assert problem(await act(audit, sid, who, Move.APPROVE), 403, "four_eyes")
        problem(await act(audit, sid, who, Move.RETURN), 403, "four_eyes")
    r = await act(audit, sid, "ana", Move.RELEASE)
    assert r.status_code == 200 and r.json()["status"] == "queued" and r.json()["holder"] is None
    async with audit.client("cleo") as cleo:
        signoff = (await cleo.get(f"/api/v1/cases/{sid}/signoff")).json()
    assert signoff["reviewer_id"] is None
    assert [h["action"] for h in signoff["history"]] == ["requested", "returned", "requested", "withdrawn"]
    assert (await act(audit, sid, "ben", Move.CLAIM)).status_code == 200
    assert (await act(audit, sid, "ben", Move.REQUEST)).status_code == 200
    r = await act(audit, sid, "cleo", Move.APPROVE)
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["approved_by"] == "cleo"


async def test_a_superseded_decider_cannot_approve(audit):
    """Ana's decision on DG1 is replaced by Ben's: she still decided part of this review."""
    await staff(audit)
    sid = await audit.open()
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        assert (await decide(ana, sid, "DG1", "NO", reason="requirement_not_met", explanation="No inventory.",
                             satisfy="An inventory.")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{sid}/release", json={})).status_code == 200
        assert (await ben.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        r = await decide(ben, sid, "DG1", "YES", version=1)
        assert r.status_code == 200 and r.json()["decided_by"] == "ben"
        assert (await ben.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")).status_code == 200
        assert (await ben.post(f"/api/v1/cases/{sid}/signoff/request")).status_code == 200
    body = problem(await act(audit, sid, "ana", Move.APPROVE), 403, "four_eyes")
    assert body["role"] == "decider"
    assert (await act(audit, sid, "cleo", Move.APPROVE)).status_code == 200


async def test_random_sequences_never_strand_a_case_and_never_let_a_participant_approve(audit):
    """Hypothesis picks who does what; after every step the case is where the pure rules
    say (`domain.move`), the API never fails with 5xx, the operator never changes anything,
    an approver never appears in the trail as a decider or requester, and at the end some
    auditor can still move the case (tried for real: the first action that works)."""
    await staff(audit)
    loop = asyncio.get_running_loop()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=120)

    anyone = st.sampled_from((*AUDITORS, OPERATOR))

    @settings(max_examples=12, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(anyone, st.sampled_from(list(Move)), st.sampled_from(AUDITORS)), max_size=14))
    def walk(sequence):
        sid = run(audit.open())
        model = Review()
        for actor, action, target in sequence:
            r = run(act(audit, sid, actor, action, target))
            assert r.status_code < 500, r.text
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith("application/problem+json")
            if actor == OPERATOR:
                assert r.status_code == 403
            if action == Move.APPROVE and r.status_code == 200:
                assert actor not in run(took_part(audit, sid))
            try:
                model = domain.move(model, actor, action, is_auditor=actor != OPERATOR, target=target)
            except (WrongState, FourEyes):
                pass
            case = run(audit.case(sid))
            assert (case.status, case.holder_id) == (model.state.value, model.holder), (actor, action, r.text)
        if model.state == CaseState.COMPLETED:
            return
        for actor in AUDITORS:  # someone can move it on
            for action in (Move.RELEASE, Move.CLAIM, Move.DECIDE, Move.REQUEST, Move.RETURN, Move.APPROVE):
                before = run(audit.case(sid))
                r = run(act(audit, sid, actor, action))
                after = run(audit.case(sid))
                if r.status_code == 200 and (before.status, before.holder_id) != (after.status, after.holder_id):
                    return
        raise AssertionError(f"nobody can move case {sid}: {model}")

    await asyncio.to_thread(walk)

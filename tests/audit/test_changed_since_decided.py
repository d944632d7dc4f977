"""Decisions bound to what they judged, through the real API and database: a clarification
answer marks the decisions it changes, sign-off waits until each is decided again or
confirmed with a note, "confirm the remaining" never covers a criterion under
clarification or changed, the sign-off page shows every change since each decision (en,
es, pt), and the trail records it all."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from services.audit import subscribers
from shared.contracts.events import ClarificationAnswered, CriterionAnswerSent, Subject, make_event
from shared.contracts.submission import EvidenceItem
from tests.audit.conftest import ANSWERS, decide, problem

SHA = "7a" * 32
NEW_FILE = EvidenceItem(id="ev-dg1-2026", criterion_id="DG1", kind="file", filename="inventory-2026.pdf",
                        object_key="k/inventory-2026.pdf", size=10, sha256=SHA, content_type="application/pdf")


async def city_answers(audit, sid: str, request_id: str, answers: dict[str, CriterionAnswerSent]) -> None:
    """Intake's `clarification.answered`, handled as audit's subscriber handles it."""
    envelope = make_event(Subject.CLARIFICATION_ANSWERED, ClarificationAnswered(
        submission_id=sid, request_id=request_id, answered_at=datetime.now(UTC), answered_by="city-jordan",
        answers=answers), submission_id=sid, correlation_id=sid)
    async with audit.runtime.db.transaction() as session:
        await subscribers.record_answer(session, envelope)


def page(audit, who: str, lang: str):
    client = audit.client()
    client.cookies.set("wwc_token", audit.tokens[who])
    client.headers["accept-language"] = lang
    return client


async def test_a_clarification_answer_reopens_the_decisions_it_changes_until_an_auditor_looks_again(audit):
    for who in ("ana", "ben"):
        await audit.auditor(who)
    sid = await audit.open()
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        r = await decide(ana, sid, "DG1", ANSWERS["DG1"])
        assert r.status_code == 200 and r.json()["judged_version"] == 1 and not r.json()["changed_since_decided"]
        asked = (await ana.post(f"/api/v1/cases/{sid}/clarifications", json={
            "criteria": ["DG1", "OD3"], "message": "Please send the current data inventory."})).json()

        # Bulk confirmation leaves the criterion under clarification alone.
        r = await ana.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")
        assert r.status_code == 200
        assert "OD3" not in r.json()["confirmed"] and "DG1" not in r.json()["confirmed"]
        assert r.json()["skipped"] == [{"criterion_id": "OD3", "reason": "in_open_round"}]

        await city_answers(audit, sid, asked["id"], {
            "DG1": CriterionAnswerSent(narrative="The 2026 inventory is attached.", evidence=[NEW_FILE]),
            "OD3": CriterionAnswerSent(narrative="Usage report online.")})

        # DG1 was decided on the submission: it is now changed since decided.
        case = (await ana.get(f"/api/v1/cases/{sid}")).json()
        dg1 = next(c for c in case["criteria"] if c["criterion_id"] == "DG1")["decision"]
        assert dg1["changed_since_decided"] and dg1["judged_version"] == 1
        gm1 = next(c for c in case["criteria"] if c["criterion_id"] == "GM1")["decision"]
        assert not gm1["changed_since_decided"]
        trail = (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["records"]
        flagged = next(x for x in trail if x["action"] == "decisions.changed_since_decided")
        assert flagged["after"] == {"round": 1, "decisions": {"DG1": {"judged_version": 1, "version": 2}}}

        # OD3 changed too (its answer), so bulk confirmation still leaves it alone.
        r = await ana.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")
        assert r.json() == {"confirmed": [], "skipped": [{"criterion_id": "OD3", "reason": "changed"}]}
        assert (await decide(ana, sid, "OD3", ANSWERS["OD3"])).json()["judged_version"] == 2

        body = problem(await ana.post(f"/api/v1/cases/{sid}/signoff/request"), 409, "changed_since_decided")
        assert body["errors"] == [{"field": "DG1", "reason": "changed since decided"}] and body["changed"] == 1

        signoff = (await ana.get(f"/api/v1/cases/{sid}/signoff")).json()
        [changed] = signoff["changed_since_decided"]
        assert (changed["criterion_id"], changed["decided_by"], changed["judged_version"], changed["version"]) == (
            "DG1", "ana", 1, 2)
        [change] = changed["changes"]
        assert (change["version"], change["round"], change["narrative"]) == (2, 1, "The 2026 inventory is attached.")
        assert change["evidence"] == [{"id": "ev-dg1-2026", "name": "inventory-2026.pdf", "fingerprint": SHA}]

    # The sign-off page shows it, in each language.
    for lang, heading in (("en", "Changed since decided (1)"), ("es", "Cambios desde la decisión (1)"),
                          ("pt", "Mudanças desde a decisão (1)")):
        async with page(audit, "ben", lang) as browser:
            r = await browser.get(f"/audit/cases/{sid}/signoff")
        assert r.status_code == 200
        text = html.unescape(r.text)
        assert heading in text and "The 2026 inventory is attached." in text and "inventory-2026.pdf" in text
        assert 'data-criterion="DG1"' in text

    async with page(audit, "ana", "en") as browser:  # the holder's criterion page says so, with the way out
        text = html.unescape((await browser.get(f"/audit/cases/{sid}/criteria/DG1")).text)
    assert 'id="changed-since-decided"' in text and "it judged version 1" in text
    assert f'action="/audit/cases/{sid}/criteria/DG1/confirm"' in text

    async with audit.client("ana") as ana, audit.client("ben") as ben:
        version = dg1["version"]
        problem(await ana.post(f"/api/v1/cases/{sid}/decisions/DG1/confirm", json={"version": version, "note": ""}),
                422, "invalid_input")
        problem(await ben.post(f"/api/v1/cases/{sid}/decisions/DG1/confirm",
                               json={"version": version, "note": "x"}), 409, "not_holder")
        r = await ana.post(f"/api/v1/cases/{sid}/decisions/DG1/confirm", json={
            "version": version, "note": "The 2026 inventory confirms the answer."})
        assert r.status_code == 200, r.text
        assert not r.json()["changed_since_decided"] and r.json()["judged_version"] == 2
        assert r.json()["note"] == "The 2026 inventory confirms the answer." and r.json()["response"] == "YES"
        problem(await ana.post(f"/api/v1/cases/{sid}/decisions/DG1/confirm", json={
            "version": r.json()["version"], "note": "Again."}), 409, "decision_not_changed")

        r = await ana.post(f"/api/v1/cases/{sid}/signoff/request")
        assert r.status_code == 200, r.text
        signoff = r.json()
        assert signoff["changed_since_decided"] == []
        assert [(x["criterion_id"], x["note"]) for x in signoff["reconfirmed"]] == [
            ("DG1", "The 2026 inventory confirms the answer.")]
        r = await ben.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": signoff["decisions_hash"]})
        assert r.status_code == 200 and r.json()["status"] == "completed"
        actions = [x["action"] for x in (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["records"]]
    assert "decision.reconfirmed" in actions and actions[-1] == "signoff.approved"


async def test_an_answer_arriving_during_sign_off_blocks_approval_until_returned(audit):
    """A round that expired unanswered may still get its answer late, while the case awaits
    sign-off: approval is refused and the second auditor returns it."""
    for who in ("ana", "ben"):
        await audit.auditor(who)
    sid = await audit.open()
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        asked = (await ana.post(f"/api/v1/cases/{sid}/clarifications", json={
            "criteria": ["GM1"], "message": "The memo, please."})).json()
        from tests.audit.test_review_api import rounds_closed

        await audit.activities.close_round(rounds_closed(sid, (await audit.case(sid)).id, asked["id"]))
        assert (await ana.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")).status_code == 200
        digest = (await ana.post(f"/api/v1/cases/{sid}/signoff/request")).json()["decisions_hash"]
        await city_answers(audit, sid, asked["id"], {"GM1": CriterionAnswerSent(narrative="Here is the memo.")})
        body = problem(await ben.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest}),
                       409, "changed_since_decided")
        assert body["errors"] == [{"field": "GM1", "reason": "changed since decided"}]
        r = await ben.post(f"/api/v1/cases/{sid}/signoff/return", json={"comments": "GM1 has a late answer."})
        assert r.status_code == 200 and r.json()["status"] == "in_review"

"""The blind second review hides the first auditor's work everywhere (issue 21.2): the
second reviewer reads the case and the city's material, but not the first auditor's
decisions, clarification questions, review-call notes, agenda, sign-off or trail — through
the API (403 `blind_review`) nor in the console (a page saying why) — until the sign-off
request discloses both reviews. And a second reviewer who cannot go on is replaced."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from shared.contracts.events import CriterionAnswerSent
from tests.audit.conftest import ANSWERS, problem
from tests.audit.doubles import first_review, second_review
from tests.audit.test_changed_since_decided import city_answers, page

QUESTION = "Please send the adopted evaluation policy, not the draft."
CALL_NOTE = "On the call the city admitted the policy is used by two departments only."


async def test_the_second_reviewer_sees_none_of_the_first_auditors_notes_until_disclosed(doubled):
    audit = doubled
    for who in ("ana", "ben", "cleo"):
        await audit.auditor(who, f"{who.title()} Auditor")
    sid = await audit.open()
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        r = await ana.post(f"/api/v1/cases/{sid}/second-review/assign", json={"auditor_id": "ben"})
        assert r.status_code == 200, r.text
        asked = await ana.post(f"/api/v1/cases/{sid}/clarifications", json={"criteria": ["EVAL1"],
                                                                             "message": QUESTION})
        assert asked.status_code == 201, asked.text
        await city_answers(audit, sid, asked.json()["id"], {
            "EVAL1": CriterionAnswerSent(narrative="The adopted policy is online.")})
        r = await ana.post(f"/api/v1/cases/{sid}/calls", json={
            "held_at": datetime.now(UTC).isoformat(), "attendees": "Jordan Lee (city)", "notes": CALL_NOTE,
            "criteria": ["EVAL1"]})
        assert r.status_code == 201, r.text
        await first_review(ana, sid, {"EVAL1": "IN_PROGRESS"})

        # The API: every read of the first auditor's work answers 403 blind_review.
        for tail in ("/clarifications", "/calls", "/agenda", "/signoff", "/trail", "/trail.csv"):
            body = problem(await ben.get(f"/api/v1/cases/{sid}{tail}"), 403, "blind_review")
            assert body["detail"], tail
        # The whole case: the city's material (its answer in the round) but no decision, no
        # question, no call note, nothing saying what the first auditor asked about.
        case = (await ben.get(f"/api/v1/cases/{sid}")).json()
        assert case["rounds"] == [] and case["call_notes"] == []
        eval1 = next(c for c in case["criteria"] if c["criterion_id"] == "EVAL1")
        assert eval1["decision"] is None and eval1["asked_in_rounds"] == []
        assert eval1["round_answers"][0]["narrative"] == "The adopted policy is online."
        assert QUESTION not in str(case) and CALL_NOTE not in str(case)
        # The first auditor (and anyone else) still reads them.
        assert (await ana.get(f"/api/v1/cases/{sid}/clarifications")).json()[0]["message"] == QUESTION
        assert (await ana.get(f"/api/v1/cases/{sid}/calls")).json()[0]["notes"] == CALL_NOTE

    # The console: the pages of the first auditor's work say why they are closed; the
    # case's tabs do not offer them.
    for lang, words in (("en", "second reviewer"), ("es", "segundo revisor"), ("pt", "segundo revisor")):
        async with page(audit, "ben", lang) as ben_page:
            for tail in ("/clarification", "/calls", "/signoff", "/trail"):
                r = await ben_page.get(f"/audit/cases/{sid}{tail}")
                text = html.unescape(r.text)
                assert r.status_code == 403, (tail, r.status_code)
                assert words in text and QUESTION not in text and CALL_NOTE not in text, tail
            r = await ben_page.get(f"/audit/cases/{sid}")
            assert r.status_code == 200
            text = html.unescape(r.text)
            assert QUESTION not in text and CALL_NOTE not in text
            assert f'href="/audit/cases/{sid}/calls"' not in r.text
            assert f'href="/audit/cases/{sid}/second-review"' in r.text
            r = await ben_page.get(f"/audit/cases/{sid}/criteria/EVAL1")
            assert r.status_code == 200 and CALL_NOTE not in html.unescape(r.text)
    async with page(audit, "cleo", "en") as cleo_page:  # anyone else reads them
        r = await cleo_page.get(f"/audit/cases/{sid}/calls")
        assert r.status_code == 200 and CALL_NOTE in html.unescape(r.text)

    # Disclosed at the sign-off request: now the second reviewer reads everything.
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        await second_review(ben, sid, {})
        assert (await ana.post(f"/api/v1/cases/{sid}/signoff/request")).status_code == 200
        for tail in ("/clarifications", "/calls", "/agenda", "/signoff", "/trail"):
            assert (await ben.get(f"/api/v1/cases/{sid}{tail}")).status_code == 200, tail
        case = (await ben.get(f"/api/v1/cases/{sid}")).json()
        assert case["rounds"][0]["message"] == QUESTION and case["call_notes"][0]["notes"] == CALL_NOTE
    async with page(audit, "ben", "en") as ben_page:
        r = await ben_page.get(f"/audit/cases/{sid}/calls")
        assert r.status_code == 200 and CALL_NOTE in html.unescape(r.text)


async def test_a_second_reviewer_who_leaves_is_replaced_and_their_work_discarded(doubled):
    audit = doubled
    for who in ("ana", "ben", "cleo", "dora", "eve"):
        await audit.auditor(who, f"{who.title()} Auditor")
    sid = await audit.open()
    async with audit.client("ana") as ana, audit.client("ben") as ben, audit.client("cleo") as cleo, \
            audit.client("dora") as dora:
        r = await dora.post("/api/v1/me/conflicts", json={"scope": "state", "country": "US", "state": "US-IL",
                                                          "reason": "Worked for the state."})
        assert r.status_code == 201, r.text
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        problem(await cleo.post(f"/api/v1/cases/{sid}/second-review/replace", json={"reason": "Ben left."}), 409,
                "case_state")  # nobody to replace yet
        assert (await ana.post(f"/api/v1/cases/{sid}/second-review/assign", json={"auditor_id": "ben"})).is_success
        for cid in ("DG1", "DG2", "GM1"):
            assert (await ben.put(f"/api/v1/cases/{sid}/second-review/{cid}", json={"response": ANSWERS[cid]})).is_success

        # Ben leaves. Cleo gives his second review to another eligible auditor.
        problem(await cleo.post(f"/api/v1/cases/{sid}/second-review/replace", json={"reason": ""}), 422,
                "invalid_input")
        problem(await cleo.post(f"/api/v1/cases/{sid}/second-review/replace",
                                json={"reason": "Ben left.", "auditor_id": "ben"}), 422, "invalid_input")
        problem(await cleo.post(f"/api/v1/cases/{sid}/second-review/replace",
                                json={"reason": "Ben left.", "auditor_id": "ana"}), 403, "four_eyes")
        problem(await cleo.post(f"/api/v1/cases/{sid}/second-review/replace",
                                json={"reason": "Ben left.", "auditor_id": "dora"}), 403, "conflict_of_interest")
        assert (await audit.case(sid)).second_reviewer_id == "ben"  # nothing changed by the refusals
        r = await cleo.post(f"/api/v1/cases/{sid}/second-review/replace",
                            json={"reason": "Ben left the programme.", "seed": 5})
        assert r.status_code == 200, r.text
        new = r.json()["second_reviewer_id"]
        assert new in {"cleo", "eve"} and r.json()["decided"] == 0  # never Ben, Ana or conflicted Dora
        problem(await ben.put(f"/api/v1/cases/{sid}/second-review/DG1", json={"response": "YES"}), 403,
                "not_second_reviewer")
        records = (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["records"]
        released = next(x for x in records if x["action"] == "second_review.released")
        assert (released["actor_id"], released["before"], released["after"], released["reason"]) == (
            "cleo", {"second_reviewer_id": "ben"}, {"second_reviewer_id": None, "discarded": 3},
            "Ben left the programme.")
        assigned = [x["after"] for x in records if x["action"] == "second_review.assigned"]
        assert assigned == [{"second_reviewer_id": "ben"}, {"second_reviewer_id": new, "replaces": "ben"}]

        # The new reviewer reviews blind from scratch; Ben judged the case, so he cannot approve it.
        await first_review(ana, sid, {})
        async with audit.client(new) as second:
            await second_review(second, sid, {"GM1": "NO"})
        assert (await ana.post(f"/api/v1/cases/{sid}/signoff/request")).status_code == 200
        problem(await cleo.post(f"/api/v1/cases/{sid}/second-review/replace", json={"reason": "Too late."}), 409,
                "case_state")  # disclosed: the second review is done
        signed = (await ana.get(f"/api/v1/cases/{sid}/signoff")).json()
        assert {"ben", new} <= set(signed["took_part"])
        problem(await ben.post(f"/api/v1/cases/{sid}/second-review/GM1/resolve",
                               json={"outcome": "keep_first", "note": "Mine."}), 403, "four_eyes")

    # In the console: the second-review page offers the replacement, with a reason.
    other = await audit.open()
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{other}/claim")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{other}/second-review/assign", json={"auditor_id": "ben"})).is_success
    async with page(audit, "cleo", "es") as cleo_page:
        r = await cleo_page.get(f"/audit/cases/{other}/second-review")
        assert r.status_code == 200 and "Sustituir al segundo revisor" in r.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
        r = await cleo_page.post(f"/audit/cases/{other}/second-review/replace", data={"csrf_token": csrf, "reason": ""})
        assert r.status_code == 422 and "Indique por qué" in html.unescape(r.text)
        r = await cleo_page.post(f"/audit/cases/{other}/second-review/replace",
                                 data={"csrf_token": csrf, "reason": "Ben está de baja."})
        assert r.status_code == 303, r.text
        assert (await audit.case(other)).second_reviewer_id not in {"ben", "ana", "dora", None}
    async with page(audit, "ana", "es") as ana_page:  # the holder (the new second reviewer reads no trail)
        r = await ana_page.get(f"/audit/cases/{other}/trail")
        assert "en lugar de Ben Auditor" in html.unescape(r.text) and "Ben está de baja." in html.unescape(r.text)


async def test_a_second_reviewer_who_leaves_can_hand_the_review_back(doubled):
    audit = doubled
    for who in ("ana", "ben", "cleo"):
        await audit.auditor(who, f"{who.title()} Auditor")
    sid = await audit.open()
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        assert (await ana.post(f"/api/v1/cases/{sid}/second-review/assign", json={"auditor_id": "ben"})).is_success
        # Ben leaves before deciding anything: the review goes back to nobody, and he is free of the case.
        r = await ben.post(f"/api/v1/cases/{sid}/second-review/release", json={"reason": "I am leaving the team."})
        assert r.status_code == 200, r.text
        assert r.json()["second_reviewer_id"] is None and r.json()["decided"] == 0
        await first_review(ana, sid, {})
        problem(await ana.post(f"/api/v1/cases/{sid}/signoff/request"), 409, "second_review_incomplete")
        problem(await ben.post(f"/api/v1/cases/{sid}/second-review/release", json={"reason": "again"}), 409,
                "case_state")  # nobody holds it now
        r = await ana.post(f"/api/v1/cases/{sid}/second-review/assign", json={"auditor_id": "cleo"})
        assert r.status_code == 200, r.text
        records = (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["records"]
    released = next(x for x in records if x["action"] == "second_review.released")
    assert (released["actor_id"], released["after"]["discarded"], released["reason"]) == (
        "ben", 0, "I am leaving the team.")
    assert "ben" not in ((await audit.case(sid)).deciders or [])  # he judged nothing: no part in the review

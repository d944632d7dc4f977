"""Scripted double reviews through the API, shared by the double-review and calibration tests."""

from __future__ import annotations

import httpx

from tests.audit.conftest import ANSWERS, decide

# A change's reason, explanation and (when it lowers the response) what would satisfy it.
WHY = {"NO": ("requirement_not_met", "The requirement is not met.", "The missing policy."),
       "IN_PROGRESS": ("still_in_development", "It is still a draft.", "The adopted policy."),
       "YES": ("clarified_on_review_call", "The call showed it is in place.", "")}


def change(response: str, submitted: str) -> dict:
    if response == submitted:
        return {}
    code, why, satisfy = WHY[response]
    lowers = ["NO", "IN_PROGRESS", "YES"].index(response) < ["NO", "IN_PROGRESS", "YES"].index(submitted)
    return {"reason": code, "explanation": why, "satisfy": satisfy if lowers else ""}


async def first_review(client: httpx.AsyncClient, sid: str, responses: dict[str, str]) -> None:
    """The holder decides the given criteria and confirms the rest as submitted."""
    for cid, to in responses.items():
        r = await decide(client, sid, cid, to, **change(to, ANSWERS[cid]))
        assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")
    assert r.status_code == 200, r.text


async def second_review(client: httpx.AsyncClient, sid: str, responses: dict[str, str]) -> None:
    """The second reviewer decides every criterion: the given ones, the rest as submitted."""
    for cid, submitted in ANSWERS.items():
        to = responses.get(cid, submitted)
        c = change(to, submitted)
        r = await client.put(f"/api/v1/cases/{sid}/second-review/{cid}", json={
            "response": to, "reason_code": c.get("reason", ""), "note": c.get("explanation", ""),
            "what_would_satisfy": c.get("satisfy", "")})
        assert r.status_code == 200, r.text

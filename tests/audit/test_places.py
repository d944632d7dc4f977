"""Places, not spellings (issue 18): audit compares states and provinces by their ISO 3166-2
code, so a conflict declared for CA/"ON" stops a city registered as "Ontario", and the queue's
state filter lists each province once, by its name."""

from __future__ import annotations

import re

from sqlalchemy import update

from services.audit.models import ReviewCase
from tests.audit.conftest import problem, submission


async def spelled(audit, submission_id: str, state: str) -> None:
    """The case's state as audit stored it before states were codes."""
    async with audit.runtime.db.transaction() as session:
        await session.execute(update(ReviewCase).where(ReviewCase.submission_id == submission_id).values(state=state))


async def test_a_conflict_with_on_stops_a_city_registered_in_ontario(audit):
    await audit.auditor("ben")
    toronto = await audit.open(submission(city_id="c-toronto", name="Toronto", state="Ontario", country="CA"))
    ottawa = await audit.open(submission(city_id="c-ottawa", name="Ottawa", state="CA-ON", country="CA"))
    hamilton = await audit.open(submission(city_id="c-hamilton", name="Hamilton", state="CA-ON", country="CA"))
    await spelled(audit, hamilton, "Ontario")  # a row kept from before
    montreal = await audit.open(submission(city_id="c-montreal", name="Montréal", state="QC", country="CA"))
    async with audit.client("ben") as ben:
        r = await ben.post("/api/v1/me/conflicts", json={"scope": "state", "country": "CA", "state": "ON",
                                                         "reason": "I sat on Ontario's open data board."})
        assert r.status_code == 201, r.text
        assert (r.json()["conflict"]["key"], r.json()["conflict"]["state"]) == ("state:CA-ON", "CA-ON")
        queue = {c["submission_id"]: c for c in (await ben.get("/api/v1/cases")).json()}
        assert queue[toronto]["state"] == "CA-ON"  # stored as the code it was sent as a name
        for sid in (toronto, ottawa, hamilton):
            assert queue[sid]["conflict"] == "state:CA-ON" and not queue[sid]["can_claim"], sid
            body = problem(await ben.post(f"/api/v1/cases/{sid}/claim"), 403, "conflict_of_interest")
            assert body["conflict"] == "state:CA-ON"
        assert queue[montreal]["conflict"] is None
        assert (await ben.post(f"/api/v1/cases/{montreal}/claim")).status_code == 200

        # Naming the province declares the same conflict, once.
        again = await ben.post("/api/v1/me/conflicts", json={"scope": "state", "country": "CA", "state": "Ontario"})
        assert again.json()["conflict"]["id"] == r.json()["conflict"]["id"]
        assert len((await ben.get("/api/v1/me/conflicts")).json()) == 1
        # What names no province of the country is refused, by field.
        for state in ("Atlantis", "NY", "US-NY"):
            body = problem(await ben.post("/api/v1/me/conflicts", json={"scope": "state", "country": "CA",
                                                                         "state": state}), 422, "invalid_input")
            assert body["errors"] == [{"field": "state", "reason": "not a state or province of CA: choose one of "
                                                                   "its ISO 3166-2 codes"}], state


async def test_the_state_filter_lists_each_province_once_by_name(audit):
    await audit.auditor("ana")
    ids = {}
    for i, (state, country) in enumerate([("ON", "CA"), ("Ontario", "CA"), ("CA-ON", "CA"), ("US-NY", "US"),
                                          ("New York", "US")]):
        ids[i] = await audit.open(submission(city_id=f"c{i}", name=f"City {i}", state="", country=country))
        await spelled(audit, ids[i], state)  # as rows were spelled before the codes
    client = audit.client()
    client.cookies.set("wwc_token", audit.tokens["ana"])
    async with client:
        html = (await client.get("/audit/queue", params={"lang": "es"})).text
        select = re.search(r'<select id="filter-state" name="state">(.*?)</select>', html, re.S).group(1)
        options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
        assert options == [("", options[0][1]), ("CA-ON", "Ontario (CA-ON)"), ("US-NY", "Nueva York (US-NY)")]
    # Filtering compares codes (the data migration turned the old spellings into codes).
    async with audit.client("ana") as ana:
        found = [c["submission_id"] for c in (await ana.get("/api/v1/cases", params={"state": "CA-ON"})).json()]
    assert found == [ids[2]]

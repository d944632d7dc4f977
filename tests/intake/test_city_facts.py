"""A city's facts (name, place, population) are corrected with a reason: by its staff until
the assessment is submitted, then by an operator only; each change is recorded and
announced, and a refused one leaves nothing behind."""

from __future__ import annotations

from sqlalchemy import select

from services.intake.models import City, CityFactChange
from shared.contracts.events import Subject
from shared.infra.auth import Role
from shared.infra.tables import outbox
from tests.intake import helpers as h
from tests.intake.helpers import CYCLE, problem, wait_stage


async def _announced(stack, subject: str) -> list[dict]:
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        rows = await session.execute(select(outbox.c.body).where(outbox.c.subject == subject).order_by(outbox.c.seq))
        return [r.body["payload"] for r in rows]


async def _stored(stack, city_id: str) -> tuple[City, list[CityFactChange]]:
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        city = await session.get(City, city_id)
        rows = (await session.scalars(select(CityFactChange).where(CityFactChange.city_id == city_id))).all()
        return city, list(rows)


async def test_the_city_corrects_its_facts_before_submission_with_a_reason(intake):
    client, city = await h.register(intake, "Riverton", population=45_000)
    url = f"/api/v1/cities/{city['id']}/facts"

    # The reason is required; nothing changes without it.
    body = problem(await client.patch(url, json={"population": 31_000}), 422)
    assert body["code"] == "invalid_input" and body["errors"][0]["field"] == "reason"
    # The programme's rules apply to the new values.
    body = problem(await client.patch(url, json={"population": 5_000, "reason": "census"}), 422)
    assert body["code"] == "ineligible_city" and body["errors"][0]["field"] == "population"
    body = problem(await client.patch(url, json={"country": "FR", "reason": "moved"}), 422)
    assert body["code"] == "ineligible_city" and body["errors"][0]["field"] == "country"
    body = problem(await client.patch(url, json={"country": "CA", "state": "US-IL", "reason": "moved"}), 422)
    assert body["code"] == "unknown_state" and body["errors"][0]["field"] == "state"
    stored, records = await _stored(intake, city["id"])
    assert (stored.population, stored.country, records) == (45_000, "US", [])

    r = await client.patch(url, json={"population": 310_000, "name": "Riverton City",
                                      "reason": "The 2025 census counted 310,000 residents."})
    assert r.status_code == 200, r.text
    assert (r.json()["population"], r.json()["population_band"], r.json()["name"]) == (
        310_000, "250K-500K", "Riverton City")
    r = await client.patch(url, json={"country": "CA", "state": "CA-ON", "reason": "wrong country chosen"})
    assert (r.json()["country"], r.json()["state"], r.json()["region"]) == ("CA", "CA-ON", "Canada")

    history = (await client.get(f"{url}/changes")).json()
    assert [c["changes"] for c in history] == [
        {"country": {"old": "US", "new": "CA"}, "state": {"old": "US-IL", "new": "CA-ON"}},
        {"name": {"old": "Riverton", "new": "Riverton City"}, "population": {"old": 45_000, "new": 310_000}}]
    assert history[1]["reason"] == "The 2025 census counted 310,000 residents."
    assert history[1]["changed_by_name"] == "Riverton Data Office" and history[1]["changed_by_role"] == "city"

    told = await _announced(intake, Subject.CITY_FACTS_CHANGED)
    assert [(c["fact"], c["old"], c["new"]) for c in told[0]["changes"]] == [
        ("name", "Riverton", "Riverton City"), ("population", 45_000, 310_000)]
    assert told[0]["changed_by_name"] == "Riverton Data Office" and told[0]["reason"].startswith("The 2025")
    profiles = await _announced(intake, Subject.CITY_UPDATED)
    assert profiles[-1]["population"] == 310_000 and profiles[-1]["state"] == "CA-ON"

    # Its own name in other capitals is a correction, not another city of the same name.
    r = await client.patch(url, json={"name": "RIVERTON CITY", "reason": "as the charter writes it"})
    assert r.status_code == 200 and r.json()["name"] == "RIVERTON CITY", r.text

    # The settings route no longer moves the city without a reason.
    body = problem(await client.patch(f"/api/v1/cities/{city['id']}", json={"state": "CA-QC"}), 422)
    assert body["errors"][0]["field"] == "state"


async def test_after_submission_only_an_operator_corrects_them(intake):
    client, city = await h.draft(intake, "Lakeside", population=45_000)
    await h.fill_bulk(client)
    r = await client.post(f"/api/v1/assessments/{CYCLE}/submit")
    assert r.status_code == 201, r.text
    await wait_stage(intake, r.json()["workflow_id"], "in_review")
    url = f"/api/v1/cities/{city['id']}/facts"

    body = problem(await client.patch(url, json={"population": 46_000, "reason": "census"}), 409)
    assert body["code"] == "city_facts_locked"
    auditor = intake.client("intake", await intake.create_staff("ana@wwc.org", "Ana Ramos", Role.AUDITOR))
    assert problem(await auditor.patch(url, json={"population": 46_000, "reason": "census"}), 403)["code"] == \
        "forbidden"
    operator = intake.client("intake", await intake.create_staff("op@wwc.org", "Olga Operator", Role.OPERATOR))
    body = problem(await operator.patch(url, json={"population": 46_000}), 422)
    assert body["errors"][0]["field"] == "reason"
    body = problem(await operator.patch(url, json={"population": 29_999, "reason": "census"}), 422)
    assert body["code"] == "ineligible_city"

    r = await operator.patch(url, json={"population": 46_500, "reason": "Census correction from the city's mail"})
    assert r.status_code == 200 and r.json()["population"] == 46_500, r.text
    stored, records = await _stored(intake, city["id"])
    assert stored.population == 46_500
    assert [(x.changes, x.changed_by_name, x.changed_by_role) for x in records] == [
        ({"population": {"old": 45_000, "new": 46_500}}, "Olga Operator", "operator")]
    # The city sees the correction too.
    assert (await client.get(f"{url}/changes")).json()[0]["reason"] == "Census correction from the city's mail"

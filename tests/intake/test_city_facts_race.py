"""A facts correction and a submission of the same city, at the same moment, on PostgreSQL
(where two transactions really run at once; SQLite has one writer at a time). Both lock
the city's row: the correction that commits first is what the submission freezes; the
submission that commits first makes the city staff's correction, which waited for it,
refused (`city_facts_locked`). Never a submission frozen with facts changed under it, nor
a correction lost."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from certification import gateway
from services.intake import city_facts
from services.intake.models import City, CityFactChange, Submission
from shared.catalog.loader import load_catalog
from shared.infra.auth import Principal, Role
from tests.infra.test_consumer import eventually
from tests.intake import helpers as h
from tests.intake.helpers import CYCLE, problem

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


async def waiting_on_the_city(stack) -> bool:
    """Another transaction is waiting for the lock on a city's row."""
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        return bool(await session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND query ILIKE '%cities%FOR UPDATE%'")))


async def stored(stack, city_id: str, submission_id: str):
    """The city, how many corrections it has on record, and the submission."""
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        city = await session.get(City, city_id)
        changes = (await session.scalars(select(CityFactChange).where(CityFactChange.city_id == city_id))).all()
        return city, len(changes), await session.get(Submission, submission_id)


async def test_a_correction_in_flight_is_what_the_submission_freezes(intake):
    client, city = await h.draft(intake, "Riverton", population=45_000)
    await h.fill_bulk(client)
    operator = Principal(sub="op-1", role=Role.OPERATOR, name="Olga Operator")
    eligibility = load_catalog("wwc-2019").eligibility
    runtime = intake.runtimes["intake"]
    async with runtime.db.transaction() as session:
        # The correction is written, not yet committed, when the city submits.
        await city_facts.change(session, operator, city["id"], city_facts.CityFactsUpdate(
            population=310_000, reason="The 2025 census counted 310,000 residents."), eligibility=eligibility)
        submitting = asyncio.create_task(client.post(f"/api/v1/assessments/{CYCLE}/submit"))
        # The submission waits for the city's row (without the lock it would freeze the old facts now).
        await eventually(lambda: _either(submitting, waiting_on_the_city(intake)))
        assert not submitting.done(), "the submission did not wait for the correction in flight"
    r = await submitting
    assert r.status_code == 201, r.text
    stored_city, changes, sub = await stored(intake, city["id"], r.json()["id"])
    frozen = sub.frozen["city"]
    assert (frozen["population"], frozen["population_band"]) == (310_000, "250K-500K") == (
        stored_city.population, stored_city.population_band)
    assert changes == 1


async def test_a_submission_in_flight_makes_the_citys_correction_wait_and_refused(intake, monkeypatch):
    client, city = await h.draft(intake, "Lakeside", population=45_000)
    await h.fill_bulk(client)
    frozen, go_on = asyncio.Event(), asyncio.Event()
    start = gateway.start

    async def held_start(session, data):  # the submission pauses inside its transaction, facts frozen
        frozen.set()
        await go_on.wait()
        return await start(session, data)

    monkeypatch.setattr(gateway, "start", held_start)
    submitting = asyncio.create_task(client.post(f"/api/v1/assessments/{CYCLE}/submit"))
    await asyncio.wait_for(frozen.wait(), 30)
    correcting = asyncio.create_task(client.patch(f"/api/v1/cities/{city['id']}/facts", json={
        "population": 46_000, "reason": "census"}))
    # The correction waits for the submission (without the lock it would change the facts under it).
    await eventually(lambda: _either(correcting, waiting_on_the_city(intake)))
    done_early = correcting.done()
    go_on.set()
    r = await submitting
    assert r.status_code == 201, r.text
    answer = await correcting
    assert not done_early, f"the correction did not wait for the submission: {answer.status_code}"
    assert problem(answer, 409)["code"] == "city_facts_locked"
    stored_city, changes, sub = await stored(intake, city["id"], r.json()["id"])
    assert stored_city.population == sub.frozen["city"]["population"] == 45_000 and changes == 0


async def _either(task: asyncio.Task, waiting) -> bool:
    if task.done():
        waiting.close()
        return True
    return await waiting

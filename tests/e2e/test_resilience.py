"""No lost or doubled facts: NATS stopped mid-flow, a service restarted mid-flow, and
every submission still ends completed through real review (auditors working through
audit's API, cities declining their debrief through notify's), with each event consumed
exactly once and every call to the workflow delivered once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from devtools import devstack
from shared.catalog.loader import load_catalog
from shared.infra.consumer import list_parked
from services.intake.models import Submission
from tests.e2e.test_walking_skeleton import (
    assert_each_event_consumed_once,
    assert_each_workflow_call_delivered_once,
    demo_responses,
)
from tests.infra.test_consumer import eventually

pytestmark = pytest.mark.slow

def patient(stack) -> None:
    """A retry budget like production's (the harness's is tiny, for fast parking tests):
    after an outage, facts from different producers arrive in any order, and a handler
    waiting for an earlier fact retries instead of being parked."""
    for rt in stack.runtimes.values():
        rt.settings.nats.max_deliver = 40
        rt.settings.nats.nack_backoff_max_seconds = 0.5


async def ready_city(stack, i: int, tag: str = "r"):
    """A registered city with its assessment filled in, ready to submit: (client, token)."""
    registered = await stack.register_city({
        "name": f"Resilient {tag}{i}", "state": "OR", "country": "US", "population": 80_000 + i,
        "contact_name": "Ops", "contact_email": f"ops-{tag}{i}@resilient.example",
        "password": "correct-horse-battery"})
    city_token = registered["token"]["access_token"]
    client = stack.client("intake", city_token)
    snap = {q.id: True for q in load_catalog("wwc-2019").snapshot}
    assert (await client.post("/api/v1/snapshots/2026", json={"answers": snap})).status_code == 201
    r = await client.put("/api/v1/assessments/2026/responses", json={"responses": demo_responses(yes=25 + i)})
    assert r.status_code == 200, r.text
    return client, city_token


async def all_at(stack, ids: list[str], stage: str) -> bool:
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        statuses = (await session.scalars(select(Submission.status).where(Submission.id.in_(ids)))).all()
    return len(statuses) == len(ids) and set(statuses) == {stage}


async def review_all(people, ids: list[str]) -> None:
    await asyncio.gather(*(people.review(sid) for sid in ids))


async def finish(stack, people, cities: dict[str, str]) -> None:
    """{submission id: city token}: every submission reviewed already reaches the debrief
    offer; its city declines; all complete."""
    ids = list(cities)
    await asyncio.gather(*(people.decline_debrief(tok, sid) for sid, tok in cities.items()))
    await eventually(lambda: all_completed(stack, ids), timeout=60, interval=0.3)


async def all_completed(stack, ids: list[str]) -> bool:
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        statuses = (await session.scalars(select(Submission.status).where(Submission.id.in_(ids)))).all()
    return len(statuses) == len(ids) and set(statuses) == {"completed"}


async def assert_exactly_once(stack) -> None:
    await assert_each_event_consumed_once(stack.runtimes, timeout=60)
    await assert_each_workflow_call_delivered_once(stack.runtimes, timeout=60)
    for name, runtime in stack.runtimes.items():
        assert await list_parked(runtime.db) == [], f"{name} parked messages"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_nats_down_mid_flow_loses_and_doubles_nothing(stack, people, nats_server):
    patient(stack)
    cities = [await ready_city(stack, i) for i in range(4)]
    port, data_dir = nats_server.port, nats_server.data_dir
    submitted: dict[str, str] = {}
    for client, tok in cities[:2]:
        submitted[(await client.post("/api/v1/assessments/2026/submit")).json()["id"]] = tok
    nats_server.stop()  # the broker dies while facts are being written and relayed
    for client, tok in cities[2:]:
        r = await client.post("/api/v1/assessments/2026/submit")  # submissions go on without it
        assert r.status_code == 201, r.text
        submitted[r.json()["id"]] = tok
    await review_all(people, list(submitted))  # the auditors work on, too
    await asyncio.sleep(2)  # the outage
    restarted = devstack.start_nats(port, data_dir)  # same store: streams and durables survive
    try:
        await finish(stack, people, submitted)
        await assert_exactly_once(stack)
    finally:
        restarted.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_service_restarted_mid_flow_loses_and_doubles_nothing(stack, people):
    patient(stack)
    cities = [await ready_city(stack, i) for i in range(3)]
    await stack.runtimes["scoring"].stop()  # scoring crashes before the submissions reach it
    submitted = {(await c.post("/api/v1/assessments/2026/submit")).json()["id"]: tok for c, tok in cities}
    await review_all(people, list(submitted))
    await eventually(lambda: all_at(stack, list(submitted), "scoring"), timeout=60, interval=0.3)  # they wait there
    await stack.restart("scoring")
    await stack.restart("notify", down_for=0.5)  # and notify bounces too
    patient(stack)
    await finish(stack, people, submitted)
    await assert_exactly_once(stack)

"""A small certification cycle run for real through all five services, for the reporting
pages' tests: cities register, submit through intake's API, two auditors review them
through audit's API (changing some responses with reason codes, four eyes), scoring
scores, reporting renders, and each city declines its debrief; one city withdraws."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from devtools import actors
from devtools.harness import Stack
from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject
from shared.infra.auth import Role
from shared.infra.tables import outbox
from shared.scoring.engine import ScoreResult, score
from tests.audit.conftest import decide
from tests.conftest import token
from tests.infra.test_consumer import eventually

CATALOG = load_catalog("wwc-2019")
CYCLE = "2026"
PASSWORD = "correct-horse-battery"


def answers(yes: int) -> dict[str, str]:
    """The first `yes` criteria (catalog order) YES, the rest IN_PROGRESS and NO in turn."""
    return {c.id: "YES" if i < yes else ("IN_PROGRESS" if i % 2 else "NO") for i, c in enumerate(CATALOG.criteria)}


@dataclass
class Plan:
    """One city: who it is, what it answers, what the auditor changes (criterion ->
    (response, reason code)), and whether it withdraws instead of being reviewed."""

    name: str
    state: str
    country: str
    population: int
    language: str
    yes: int
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    withdraws: bool = False


@dataclass
class City:
    plan: Plan
    id: str
    token: str
    email: str
    submission_id: str = ""
    report_id: str = ""

    @property
    def submitted(self) -> dict[str, str]:
        return answers(self.plan.yes)

    @property
    def final(self) -> dict[str, str]:
        return {**self.submitted, **{cid: r for cid, (r, _) in self.plan.changes.items()}}

    @property
    def score(self) -> ScoreResult:
        return score(CATALOG, self.final)


@dataclass
class World:
    stack: Stack
    cities: dict[str, City]
    ana: str
    ben: str
    operator: str = field(default_factory=lambda: token(Role.OPERATOR, sub="operator-1"))

    def client(self, service: str, bearer: str | None = None) -> httpx.AsyncClient:
        return self.stack.client(service, bearer)

    def page_client(self, session_token: str | None = None) -> httpx.AsyncClient:
        """Reporting's pages as a browser signed in with `session_token` (the cookie)."""
        client = self.stack.client("reporting")
        if session_token:
            client.cookies.set("wwc_token", session_token)
        return client

    async def status_events(self) -> list[dict]:
        """Every status change intake published (its own outbox: the producer's record)."""
        async with self.stack.runtimes["intake"].db.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.body).where(outbox.c.subject == Subject.STATUS_CHANGED)
                                          .order_by(outbox.c.seq))).scalars().all()
        return list(rows)

    async def submitted_events(self) -> list[dict]:
        async with self.stack.runtimes["intake"].db.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.body).where(
                outbox.c.subject == Subject.SUBMISSION_SUBMITTED))).scalars().all()
        return list(rows)


async def register(stack: Stack, plan: Plan, tag: str) -> City:
    email = f"data-{tag}@{plan.name.lower().replace(' ', '')}.gov"
    body = await stack.register_city({
        "name": plan.name, "state": plan.state, "country": plan.country, "population": plan.population,
        "contact_name": f"{plan.name} Data Office", "contact_email": email, "password": PASSWORD,
        "language": plan.language})
    return City(plan=plan, id=body["city"]["id"], token=body["token"]["access_token"], email=email)


async def submit(stack: Stack, city: City) -> None:
    async with stack.client("intake", city.token) as intake:
        snapshot = {q.id: True for q in CATALOG.snapshot}
        r = await intake.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": snapshot})
        assert r.status_code == 201, r.text
        responses = {cid: {"response": a, "narrative": f"{city.plan.name} on {cid}.",
                           "links": [f"https://data.example.gov/{cid}"] if a == "YES" else []}
                     for cid, a in city.submitted.items()}
        r = await intake.put(f"/api/v1/assessments/{CYCLE}/responses", json={"responses": responses})
        assert r.status_code == 200, r.text
        r = await intake.post(f"/api/v1/assessments/{CYCLE}/submit")
        assert r.status_code == 201, r.text
        city.submission_id = r.json()["id"]


async def stage_of(stack: Stack, city: City) -> str | None:
    async with stack.client("intake", city.token) as intake:
        body = (await intake.get(f"/api/v1/submissions/{city.submission_id}")).json()
    return body.get("status")


async def review(world: World, city: City) -> None:
    """Ana claims the case, makes the plan's changes, confirms the rest and asks for
    sign-off; Ben approves."""
    sid = city.submission_id
    async with world.client("audit", world.ana) as ana, world.client("audit", world.ben) as ben:
        async def received():  # the case opens before the submission's content reaches audit
            r = await ana.get(f"/api/v1/cases/by-submission/{sid}")
            return r.status_code == 200 and r.json()["received"]

        await eventually(received, timeout=60, interval=0.3)
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        for cid, (response, reason) in city.plan.changes.items():
            r = await decide(ana, sid, cid, response, reason=reason, explanation=f"The evidence sent for {cid} does not show it in practice.",
                             satisfy=f"What would satisfy {cid}.")
            assert r.status_code == 200, r.text
        assert (await ana.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")).status_code == 200
        r = await ana.post(f"/api/v1/cases/{sid}/signoff/request")
        assert r.status_code == 200, r.text
        r = await ben.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": r.json()["decisions_hash"]})
        assert r.status_code == 200, r.text


async def certify(world: World, city: City) -> None:
    """Submit, review, then wait for the report and decline the debrief."""
    stack = world.stack
    await submit(stack, city)
    if city.plan.withdraws:
        await eventually(lambda: _in(stack, city, {"in_review"}), timeout=90, interval=0.3)
        async with stack.client("intake", city.token) as intake:
            r = await intake.post(f"/api/v1/submissions/{city.submission_id}/withdraw",
                                  json={"reason": "We will apply next cycle."})
            assert r.status_code in (200, 202), r.text
        await eventually(lambda: _in(stack, city, {"withdrawn"}), timeout=90, interval=0.3)
        return
    await review(world, city)
    async with stack.client("reporting", city.token) as reporting:
        async def reported():
            r = await reporting.get(f"/api/v1/reports/by-submission/{city.submission_id}")
            return r.json() if r.status_code == 200 else None

        city.report_id = (await eventually(reported, timeout=180, interval=0.5))["id"]
    debrief = actors.City(stack, city.plan.name, city.email, token=city.token, submission_id=city.submission_id)
    await eventually(debrief.debrief_offered, timeout=90, interval=0.3)
    await debrief.decline_debrief()  # as the city does, through notify's API
    await eventually(lambda: _in(stack, city, {"completed"}), timeout=90, interval=0.3)


async def _in(stack: Stack, city: City, stages: set[str]) -> bool:
    return await stage_of(stack, city) in stages


async def build_world(stack: Stack, plans: dict[str, Plan]) -> World:
    tag = uuid.uuid4().hex[:6]
    cities = {key: await register(stack, plan, f"{key}-{tag}") for key, plan in plans.items()}
    world = World(stack=stack, cities=cities,
                  ana=await stack.create_staff(f"ana-{tag}@auditors.example.org", "Ana Ramos", Role.AUDITOR),
                  ben=await stack.create_staff(f"ben-{tag}@auditors.example.org", "Ben Okafor", Role.AUDITOR))
    await asyncio.gather(*(certify(world, city) for city in cities.values()))
    return world


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

"""Audit on its own (real NATS, Temporal and database): a stack with the audit service,
cases opened as the workflow opens them (the `audit.open_review` activity, called
directly), auditors known from the `user.registered` event intake publishes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from devtools.harness import Stack
from services.audit import directory
from services.audit.activities import AuditActivities
from services.audit.config import AuditOptions
from services.audit.models import ReviewCase
from shared.catalog.loader import load_catalog
from certification.activities import ReviewRequest
from shared.contracts.events import UserRegistered
from shared.contracts.submission import EvidenceItem, FrozenCity, FrozenResponse, FrozenSubmission
from shared.infra.auth import Role
from shared.infra.tables import outbox
from tests.conftest import token
from tests.portal.conftest import chromium, module_infra  # noqa: F401 - fixtures of the browser tests

CATALOG = load_catalog("wwc-2019")
# Every criterion answered: YES on most, a few IN_PROGRESS and NO.
ANSWERS = {c.id: ("NO" if i % 9 == 8 else "IN_PROGRESS" if i % 7 == 6 else "YES")
           for i, c in enumerate(CATALOG.criteria)}


def submission(answers: dict[str, str] | None = None, *, city_id: str = "c-springfield", name: str = "Springfield",
               state: str = "US-IL", country: str = "US", evidence: list[EvidenceItem] | None = None,
               cycle: str = "2026") -> FrozenSubmission:
    answers = answers or ANSWERS
    if evidence is None:
        evidence = [EvidenceItem(id=f"ev-{cid}", criterion_id=cid, kind="link", url=f"https://data.example.gov/{cid}")
                    for cid, a in answers.items() if a == "YES"]
    return FrozenSubmission(
        catalog_version="wwc-2019", cycle=cycle,
        city=FrozenCity(id=city_id, name=name, state=state, country=country, population=116_250,
                        region="Midwest" if country == "US" else None, population_band="100K-250K"),
        responses={cid: FrozenResponse(response=a, narrative=f"{name} on {cid}.") for cid, a in answers.items()},
        evidence=evidence)


@dataclass
class Audit:
    stack: Stack
    options: AuditOptions
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def runtime(self):
        return self.stack.runtimes["audit"]

    @property
    def activities(self) -> AuditActivities:
        return AuditActivities(self.runtime, self.options)

    async def open(self, sub: FrozenSubmission | None = None, submission_id: str | None = None) -> str:
        """A case as the workflow opens it; its submission's id."""
        submission_id = submission_id or uuid.uuid4().hex
        await self.activities.open_review(ReviewRequest(submission_id=submission_id, correlation_id=submission_id,
                                                        submission=sub or submission()))
        return submission_id

    async def auditor(self, user_id: str, name: str = "", role: Role = Role.AUDITOR) -> str:
        """A staff account as audit learns of it (intake's event); its token."""
        async with self.runtime.db.transaction() as session:
            await directory.record_user(session, UserRegistered(
                user_id=user_id, email=f"{user_id}@wwc.test", name=name or user_id.title(), role=role.value))
        self.tokens[user_id] = token(role, sub=user_id)
        return self.tokens[user_id]

    def client(self, who: str | None = None, *, bearer: str | None = None) -> httpx.AsyncClient:
        return self.stack.client("audit", bearer or (self.tokens[who] if who else None))

    async def case(self, submission_id: str) -> ReviewCase:
        async with self.runtime.db.sessionmaker() as session:
            return await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == submission_id))

    async def events(self, subject: str, submission_id: str | None = None) -> list[dict]:
        async with self.runtime.db.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.body).where(outbox.c.subject == subject)
                                          .order_by(outbox.c.seq))).scalars().all()
        return [r["payload"] for r in rows if submission_id is None or r["submission_id"] == submission_id]


@pytest.fixture
async def audit(infra, backend, tmp_path):
    options = AuditOptions()
    stack = Stack(infra=infra, backend=backend, tmp=tmp_path, services=("audit",),
                  build_kwargs={"audit": {"options": options}})
    await stack.start()
    yield Audit(stack, options)
    await stack.stop()


@pytest.fixture
async def doubled(infra, backend, tmp_path):
    """Audit with every case in the double-review sample (and a quicker bootstrap)."""
    options = AuditOptions(double_review_share=1.0, bootstrap_resamples=200)
    stack = Stack(infra=infra, backend=backend, tmp=tmp_path, services=("audit",),
                  build_kwargs={"audit": {"options": options}})
    await stack.start()
    yield Audit(stack, options)
    await stack.stop()


def problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    assert body["code"] == code, body
    return body


async def decide(client: httpx.AsyncClient, submission_id: str, criterion: str, response: str, *, version: int = 0,
                 reason: str = "", explanation: str = "", satisfy: str = "", **extra) -> httpx.Response:
    return await client.put(f"/api/v1/cases/{submission_id}/decisions/{criterion}", json={
        "response": response, "reason_code": reason, "explanation": explanation, "what_would_satisfy": satisfy,
        "version": version, **extra})

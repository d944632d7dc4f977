"""Temporal down for two minutes while cities register and submit and auditors approve:
no request fails (nothing that does not need the workflow engine waits for it), and once
it is back every start and signal recorded meanwhile is delivered, once, and every
certification completes. Real NATS, S3, database and a file-backed Temporal restarted on
the same port and store."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from devtools import devstack
from devtools.harness import Infra, Stack
from services.intake.config import IntakeOptions
from shared.contracts.vocabulary import ReviewMode
from shared.infra.auth import Role
from tests.conftest import S3_KEY, S3_SECRET
from tests.e2e.conftest import People
from tests.e2e.test_resilience import all_at, all_completed, assert_exactly_once, patient, ready_city
from tests.infra.test_consumer import eventually

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 120.0


class Watched(httpx.AsyncBaseTransport):
    """Every answer any service gives during the test, to find a 5xx among them."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seen: list[tuple[str, int]]) -> None:
        self.inner, self.seen = inner, seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.seen.append((f"{request.method} {request.url.path}", response.status_code))
        return response


@pytest.fixture
async def outage_stack(nats_server, s3_server, smtp_server, infra_root, tmp_path):
    temporal = devstack.start_temporal(devstack.free_port(), db_file=tmp_path / "temporal" / "temporal.db")
    infra = Infra(nats_url=nats_server.url, temporal_address=temporal.address, s3_endpoint=s3_server.endpoint,
                  s3_access_key=S3_KEY, s3_secret_key=S3_SECRET, smtp_port=smtp_server.port,
                  mail_dir=infra_root / "mail")
    stack = await Stack(infra=infra, backend="sqlite", tmp=tmp_path,
                        build_kwargs={"intake": {"options": IntakeOptions(review_mode=ReviewMode.AUDITOR)}}).start()
    seen: list[tuple[str, int]] = []

    def watched_client(name: str, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=Watched(httpx.ASGITransport(app=stack.apps[name]), seen),
                                 base_url=f"http://{name}", headers=headers)

    stack.client = watched_client  # type: ignore[method-assign]
    box = {"temporal": temporal}
    try:
        yield stack, box, seen
    finally:
        await stack.stop()
        box["temporal"].stop()


async def test_a_temporal_outage_fails_no_request_and_loses_no_signal(outage_stack):
    stack, box, seen = outage_stack
    patient(stack)
    people = People(stack, await stack.create_staff("ana@auditors.example.org", "Ana Ramos", Role.AUDITOR),
                    await stack.create_staff("ben@auditors.example.org", "Ben Okafor", Role.AUDITOR))
    first, first_token = await ready_city(stack, 0, "t")
    before = (await first.post("/api/v1/assessments/2026/submit")).json()["id"]
    await eventually(lambda: people.ana.case_ready(before), timeout=60, interval=0.3)

    temporal = box["temporal"]
    port, db_file = temporal.port, temporal.data_dir / "temporal.db"
    temporal.stop()
    down_since = time.monotonic()
    # While it is away: the first case is reviewed and approved, new cities register,
    # fill in and submit their assessments; pages and APIs keep answering.
    await people.review(before)
    during: dict[str, str] = {}
    i = 1
    while time.monotonic() - down_since < OUTAGE_SECONDS:
        client, tok = await ready_city(stack, i, "t")
        r = await client.post("/api/v1/assessments/2026/submit")
        assert r.status_code == 201, r.text
        during[r.json()["id"]] = tok
        async with stack.client("intake", tok) as intake:
            assert (await intake.get(f"/api/v1/submissions/{r.json()['id']}")).json()["status"] == "submitted"
        i += 1
        await asyncio.sleep(min(10.0, max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since))))
    box["temporal"] = devstack.start_temporal(port, db_file=db_file)  # the same store: runs resume

    # Back: the approval reaches its workflow, the submissions start, and all complete.
    await eventually(lambda: all_at(stack, list(during), "in_review"), timeout=120, interval=0.5)
    await asyncio.gather(*(people.review(sid) for sid in during))
    cities = {before: first_token, **during}
    await asyncio.gather(*(people.decline_debrief(tok, sid) for sid, tok in cities.items()))
    await eventually(lambda: all_completed(stack, list(cities)), timeout=120, interval=0.5)
    await assert_exactly_once(stack)
    assert len(during) >= 3
    failed = [(call, status) for call, status in seen if status >= 500]
    assert failed == [], failed

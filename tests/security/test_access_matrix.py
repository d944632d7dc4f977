"""Every route of every service, walked as city A, city B, an auditor, an operator, no
credentials and a garbage token, against the allowed matrix in docs/SECURITY.md. A route
without a row fails the test, and so does a row whose route is gone."""

from __future__ import annotations

import httpx
import pytest

from devtools.harness import Stack, serve
from services.intake.config import IntakeOptions
from shared.catalog.loader import load_catalog
from shared.infra.auth import Role
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.intake.helpers import city_data
from tests.security.access import CALLERS, probe, read_matrix, render_rows, routes

pytestmark = pytest.mark.slow
CYCLE = "2026"


@pytest.fixture
async def world(infra, tmp_path):
    """All five services, city A with a submitted assessment and a stored file, city B
    with a draft, and staff tokens."""
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path,
                  build_kwargs={"intake": {"options": IntakeOptions(review_mode="auditor")}})
    await stack.start()
    catalog = load_catalog("wwc-2019")
    snapshot = {q.id: True for q in catalog.snapshot}
    a = await stack.register_city(city_data("Springfield"))
    b = await stack.register_city(city_data("Riverton"))
    a_client = stack.client("intake", a["token"]["access_token"])
    b_client = stack.client("intake", b["token"]["access_token"])
    for client in (a_client, b_client):
        assert (await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": snapshot})).status_code == 201
        assert (await client.post(f"/api/v1/assessments/{CYCLE}")).status_code == 201
    responses = {c.id: {"response": "NO"} for c in catalog.criteria}
    assert (await a_client.put(f"/api/v1/assessments/{CYCLE}/responses",
                               json={"responses": responses})).status_code == 200
    r = await a_client.post(f"/api/v1/assessments/{CYCLE}/criteria/DG1/files",
                            files={"file": ("inventory.txt", b"data inventory", "text/plain")})
    assert r.status_code == 201, r.text
    evidence_id = r.json()["id"]
    r = await a_client.post(f"/api/v1/assessments/{CYCLE}/submit")
    assert r.status_code == 201, r.text
    submission_id = r.json()["id"]

    async def case_opened():  # audit's routes are walked over a case that exists
        async with stack.client("audit", token(Role.AUDITOR, sub="auditor-1")) as audit:
            r = await audit.get(f"/api/v1/cases/by-submission/{submission_id}")
            return r.status_code == 200 and r.json()["received"]

    await eventually(case_opened, timeout=120, interval=0.2)
    ids = {"cycle": CYCLE, "city_id": a["city"]["id"], "submission_id": r.json()["id"], "evidence_id": evidence_id,
           "criterion_id": "DG1", "area_id": "DG", "request_id": "no-such-request", "parked_id": "1",
           "name": "console.css", "version": "wwc-2019", "slot_id": "no-such-slot", "mail_id": "no-such-mail",
           "report_id": "no-such-report", "event_id": "no-such-event", "code": "WWC-0000-0000"}
    credentials = {
        "city": a["token"]["access_token"], "other city": b["token"]["access_token"],
        "auditor": token(Role.AUDITOR, sub="auditor-1"), "operator": token(Role.OPERATOR, sub="operator-1"),
        "anonymous": None, "bad token": "garbage.not-a.jwt",
    }
    yield stack, ids, credentials
    await stack.stop()


async def test_every_route_answers_as_the_matrix_says(world):
    stack, ids, credentials = world
    observed = {}
    served: dict[str, tuple] = {}  # services with endless streams, on a real port
    try:
        for route in routes(stack.apps):
            if route.stream and route.service not in served:
                served[route.service] = await serve(stack.apps[route.service])
            client = (httpx.AsyncClient(base_url=served[route.service][0]) if route.stream
                      else stack.client(route.service))
            async with client:
                observed[route] = tuple([await probe(client, route, ids, credentials[c]) for c in CALLERS])
    finally:
        for _, server, task in served.values():
            server.should_exit = True
            await task
    matrix = read_matrix()
    missing = {r: cells for r, cells in observed.items() if (r.service, r.method, r.path) not in matrix}
    assert not missing, "routes without a row in docs/SECURITY.md (as they answer now):\n" + render_rows(missing)
    stale = set(matrix) - {(r.service, r.method, r.path) for r in observed}
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"
    wrong = {r: cells for r, cells in observed.items() if matrix[(r.service, r.method, r.path)] != cells}
    assert not wrong, "routes that answer against the matrix (as they answer now):\n" + render_rows(wrong)

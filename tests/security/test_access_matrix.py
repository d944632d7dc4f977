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
from tests.security.access import (
    AUDITOR_EMAIL,
    CALLERS,
    OPERATOR_EMAIL,
    REFUSED,
    STAFF_PASSWORD,
    probe,
    read_matrix,
    render_rows,
    routes,
)

pytestmark = pytest.mark.slow
CYCLE = "2026"


@pytest.fixture
async def world(infra, tmp_path):
    """All five services, city A with a submitted assessment and a stored file, city B
    with a draft, and staff tokens."""
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path,
                  build_kwargs={"intake": {"options": IntakeOptions(
                      review_mode="auditor", registration_limits_per_address="1000/minute",
                      sign_in_limits_per_client="1000/minute")}})
    await stack.start()
    catalog = load_catalog("wwc-2019")
    snapshot = {q.id: True for q in catalog.snapshot}
    a = await stack.register_city(city_data("Springfield"))
    b = await stack.register_city(city_data("Riverton"))
    a_client = stack.client("intake", a["token"]["access_token"])
    b_client = stack.client("intake", b["token"]["access_token"])
    responses = {c.id: {"response": "NO"} for c in catalog.criteria}
    for client in (a_client, b_client):  # both drafts complete: B's can be submitted too
        assert (await client.post(f"/api/v1/snapshots/{CYCLE}", json={"answers": snapshot})).status_code == 201
        assert (await client.post(f"/api/v1/assessments/{CYCLE}")).status_code == 201
        assert (await client.put(f"/api/v1/assessments/{CYCLE}/responses",
                                 json={"responses": responses})).status_code == 200
    # The staff who sign in to the consoles.
    await stack.create_staff(AUDITOR_EMAIL, "Ana Auditor", Role.AUDITOR, password=STAFF_PASSWORD)
    await stack.create_staff(OPERATOR_EMAIL, "Olu Operator", Role.OPERATOR, password=STAFF_PASSWORD)
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
           "report_id": "no-such-report", "event_id": "no-such-event", "code": "WWC-0000-0000",
           "appeal_id": "no-such-appeal",
           "snapshot": snapshot}
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
    invalid = {(r, c): REFUSED.get((r, credentials[c]), "") for r, cells in observed.items()
               for c, cell in zip(CALLERS, cells, strict=True) if cell == "invalid"}
    assert not invalid, "writes refused for their body, not their caller (fix the body in tests/security/access.py):\n" \
        + "\n".join(f"{r.service} {r.method} {r.path} as {c}: {why}" for (r, c), why in invalid.items())
    # Cross-city writes: with a valid body, another city never gets through to a write on
    # ids the first city owns (whatever the document says).
    owned = ("{city_id}", "{submission_id}", "{evidence_id}", "{request_id}", "{report_id}")
    crossing = [r for r, cells in observed.items() if r.method in ("POST", "PUT", "PATCH", "DELETE")
                and any(p in r.path for p in owned) and cells[CALLERS.index("other city")] not in ("hidden", "deny")]
    assert not crossing, f"another city got through to a write on the first city's ids: {crossing}"
    matrix = read_matrix()
    missing = {r: cells for r, cells in observed.items() if (r.service, r.method, r.path) not in matrix}
    assert not missing, "routes without a row in docs/SECURITY.md (as they answer now):\n" + render_rows(missing)
    stale = set(matrix) - {(r.service, r.method, r.path) for r in observed}
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"
    wrong = {r: cells for r, cells in observed.items() if matrix[(r.service, r.method, r.path)] != cells}
    assert not wrong, "routes that answer against the matrix (as they answer now):\n" + render_rows(wrong)


async def test_a_file_changed_in_storage_is_refused_to_the_auditor(world):
    """Evidence opens for an auditor only as the file the city submitted: a stored object
    changed afterwards (same name, same size) answers 409 `evidence_mismatch`, not its bytes."""
    from sqlalchemy import select

    from services.intake.evidence import _bucket
    from services.intake.models import Evidence

    stack, ids, credentials = world
    url = f"/audit/cases/{ids['submission_id']}/evidence/{ids['evidence_id']}"
    async with stack.client("audit") as auditor:
        auditor.cookies.set("wwc_token", credentials["auditor"])
        r = await auditor.get(url)
        assert r.status_code == 200 and r.content == b"data inventory"
        rt = stack.runtimes["intake"]
        async with rt.db.sessionmaker() as session:
            key = (await session.scalar(select(Evidence).where(Evidence.id == ids["evidence_id"]))).object_key
        await rt.storage.remove(_bucket(rt), key)
        await rt.storage.put_bytes(_bucket(rt), key, b"data inventorX", content_type="text/plain")
        r = await auditor.get(url)
        assert r.status_code == 409, r.status_code
        assert b"inventorX" not in r.content
        assert r.headers["content-type"].startswith("text/html")

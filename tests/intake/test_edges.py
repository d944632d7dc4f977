"""Closed vocabularies and abuse limits at intake's edge (issue 18): a cycle is one of the
catalog's open cycles; names carrying URLs are refused; registration and invitations are
throttled per address and per client; failed sign-ins slow down one (account, client)
pair without locking the account out for its owner elsewhere."""

from __future__ import annotations

from sqlalchemy import func, select

from services.intake.models import Submission
from tests.intake.helpers import CATALOG, YES_ALL, draft, register

PROBLEM = "application/problem+json"


def field_errors(r) -> dict[str, str]:
    assert r.headers["content-type"].startswith(PROBLEM), r.text
    return {e["field"]: e["reason"] for e in r.json().get("errors", [])}


async def test_a_cycle_that_is_not_open_is_refused_and_opens_no_review(intake):
    client, _ = await draft(intake)
    assert "1999" not in CATALOG.cycles
    for method, path, body in (("POST", "/api/v1/assessments/1999/submit", None),
                               ("POST", "/api/v1/assessments/1999", None),
                               ("POST", "/api/v1/snapshots/1999", {"answers": YES_ALL})):
        r = await client.request(method, path, json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["code"] == "invalid_cycle"
        assert "open cycle" in field_errors(r)["cycle"]
    async with intake.runtimes["intake"].db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
    # An open cycle still works.
    other, _ = await register(intake, "Shelbyville")
    assert (await other.post("/api/v1/snapshots/2027", json={"answers": YES_ALL})).status_code == 201

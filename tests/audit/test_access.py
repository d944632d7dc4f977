"""Every route of the audit service, as a city's staff, an auditor, an operator and nobody:
auditors act, operators read everything (and act on nothing), cities get nothing from
audit, anonymous callers are sent away. Routes added later are covered automatically."""

from __future__ import annotations

import pytest

from devtools.harness import Stack
from services.audit import domain
from services.audit.config import AuditOptions
from shared.contracts.submission import EvidenceItem
from shared.infra.auth import Role
from tests.audit.conftest import ANSWERS, Audit, submission
from tests.conftest import token
from tests.security.access import probe, routes

CALLERS = ("city", "auditor", "operator", "anonymous")
PUBLIC = ("/audit/sign-in", "/audit/sign-out", "/audit/static/{name}")


def expected(path: str, method: str) -> tuple[str, ...]:
    """The policy: (city, auditor, operator, anonymous)."""
    if path in PUBLIC:
        return ("allow",) * 4
    if (method, path) == ("DELETE", "/api/v1/me/conflicts"):  # a conflict no one declared
        return ("deny", "hidden", "deny", "deny")
    if path == "/audit/settings":  # a person's own settings: staff set theirs, operators too
        return ("deny", "allow", "allow", "deny")
    reads = method == "GET"
    return ("deny", "allow", "allow" if reads else "deny", "deny")


@pytest.fixture
async def audit_only(infra, tmp_path):
    options = AuditOptions()
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("audit",),
                  build_kwargs={"audit": {"options": options}})
    await stack.start()
    yield Audit(stack, options)
    await stack.stop()


async def test_every_audit_route_answers_each_kind_of_caller_as_intended(audit_only):
    audit = audit_only
    inventory = EvidenceItem(id="ev-file", criterion_id="DG1", kind="file", filename="inventory.pdf",
                             object_key="c-a/2026/DG1/x.pdf", size=10, sha256="0" * 64,
                             content_type="application/pdf")
    # DG1 answered NO: the probe's valid decision (NO) confirms it.
    # A case outside the double-review sample: its second-review routes answer the same each run.
    sid = next(s for s in (f"access-{i}" for i in range(100))
               if not domain.picked_for_double_review(audit.options.double_review_seed, s,
                                                       audit.options.double_review_share))
    await audit.open(submission({**ANSWERS, "DG1": "NO"}, city_id="c-a", evidence=[inventory]), submission_id=sid)
    # An appeal of it, open (two findings: deciding one leaves its sign-off incomplete, not refused).
    from datetime import UTC, datetime

    from certification.activities import AppealedFinding, AppealRequest
    from services.audit.appeals import service as appeals

    async with audit.stack.runtimes["audit"].db.transaction() as session:
        await appeals.open_appeal(session, audit.options, AppealRequest(
            submission_id=sid, appeal_id="appeal-a", city_id="c-a", catalog_version="wwc-2019",
            filed_at=datetime.now(UTC), criteria=[
                AppealedFinding(criterion_id=c, submitted="YES", audited="NO", statement="It was adopted.",
                                evidence=[inventory]) for c in ("DG1", "DG2")]))
    ids = {"submission_id": sid, "criterion_id": "DG1", "evidence_id": "ev-file", "request_id": "none",
           "parked_id": "1", "name": "audit.css", "city_id": "c-a", "appeal_id": "appeal-a"}
    credentials = {"city": token(Role.CITY, city_id="c-a", sub="city-user"),
                   "auditor": token(Role.AUDITOR, sub="auditor-1"), "operator": token(Role.OPERATOR, sub="op-1"),
                   "anonymous": None}
    # Audit's own routes (health, readiness and parked messages are every service's, tested there).
    found = [r for r in routes({"audit": audit.stack.apps["audit"]}) if r.path.startswith(("/api/", "/audit"))]
    assert len(found) > 40
    wrong = {}
    for route in found:
        async with audit.client() as client:
            got = tuple([await probe(client, route, ids, credentials[c]) for c in CALLERS])
        if got != expected(route.path, route.method):
            wrong[f"{route.method} {route.path}"] = got
    assert wrong == {}, wrong

"""A correction of a city's facts reaches the auditor: intake announces it, audit keeps it in
its own table (its subscriber), and the case page says what changed, by whom and why."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from devtools.harness import Stack
from services.audit.activities import AuditActivities
from services.audit.config import AuditOptions
from services.audit.models import CityFactChange
from certification.activities import ReviewRequest
from shared.infra.auth import Role
from tests.audit.conftest import submission
from tests.infra.test_consumer import eventually
from tests.intake.helpers import register


async def test_an_operators_correction_is_shown_on_the_citys_case(infra, backend, tmp_path):
    stack = Stack(infra=infra, backend=backend, tmp=tmp_path, services=("intake", "audit"),
                  build_kwargs={"audit": {"options": AuditOptions()}})
    await stack.start()
    try:
        _, city = await register(stack, "Riverton", population=45_000)
        sub = submission(city_id=city["id"], name="Riverton")
        sid = "sub-riverton"
        await AuditActivities(stack.runtimes["audit"], AuditOptions()).open_review(
            ReviewRequest(submission_id=sid, correlation_id=sid, submission=sub))
        operator = stack.client("intake", await stack.create_staff("olga@wwc.org", "Olga Operator", Role.OPERATOR))
        r = await operator.patch(f"/api/v1/cities/{city['id']}/facts",
                                 json={"population": 31_000, "reason": "The 2025 census counted 31,000"})
        assert r.status_code == 200, r.text
        stack.runtimes["intake"].wake_relay()

        async def stored():
            async with stack.runtimes["audit"].db.sessionmaker() as session:
                return (await session.scalars(select(CityFactChange))).all() or None

        [kept] = await eventually(stored, timeout=30)
        assert (kept.city_id, kept.changes, kept.changed_by_name) == (
            city["id"], [{"fact": "population", "old": 45_000, "new": 31_000}], "Olga Operator")

        auditor = await stack.create_staff("ana@wwc.org", "Ana Ramos", Role.AUDITOR)
        for lang, sentence in (("en", "population 45,000 → 31,000 by Olga Operator (reason: The 2025 census "
                                      "counted 31,000)"),
                               ("es", "población 45.000 → 31.000, por Olga Operator (motivo: The 2025 census")):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.apps["audit"]),
                                         base_url="http://audit", cookies={"wwc_token": auditor}) as browser:
                html = (await browser.get(f"/audit/cases/{sid}", params={"lang": lang})).text
            assert sentence in html, html[:3000]
        assert "City facts changed" in html or "Datos de la ciudad modificados" in html
    finally:
        await stack.stop()

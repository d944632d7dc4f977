"""A person's own time zone: one of the current zones of the programme's countries, kept on
the account and announced so that audit and notify show and read times in it."""

from __future__ import annotations

from sqlalchemy import select

from shared.contracts.events import Subject
from shared.infra.auth import Role
from shared.infra.tables import outbox
from tests.intake.helpers import problem


async def test_staff_choose_a_current_zone_and_others_learn_it(intake):
    token = await intake.create_staff("ana@wwc.org", "Ana Ramos", Role.AUDITOR)
    async with intake.client("intake", token) as ana:
        assert (await ana.get("/api/v1/me")).json()["user"]["timezone"] is None
        for alias in ("US/Eastern", "Etc/GMT+6", "Europe/Paris"):
            body = problem(await ana.patch("/api/v1/me", json={"timezone": alias}), 422)
            assert body["code"] == "invalid_input" and body["errors"][0]["field"] == "timezone", alias
        r = await ana.patch("/api/v1/me", json={"timezone": "America/Chicago"})
        assert r.status_code == 200 and r.json()["timezone"] == "America/Chicago", r.text
        assert (await ana.get("/api/v1/me")).json()["user"]["timezone"] == "America/Chicago"
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        told = [r.body["payload"] for r in await session.execute(
            select(outbox.c.body).where(outbox.c.subject == Subject.USER_UPDATED))]
    assert [(p["name"], p["role"], p["timezone"]) for p in told] == [("Ana Ramos", "auditor", "America/Chicago")]

"""End-to-end stacks run real review: the workflow waits for auditors, who work through
audit's API (devtools.actors), and cities end their debrief through notify's API."""

from __future__ import annotations

import pytest

from devtools import actors
from devtools.harness import Stack
from services.intake.config import IntakeOptions
from shared.contracts.vocabulary import ReviewMode
from shared.infra.auth import Role
from tests.infra.test_consumer import eventually


@pytest.fixture
async def stack(infra, backend, tmp_path):
    s = await Stack(infra=infra, backend=backend, tmp=tmp_path,
                    build_kwargs={"intake": {"options": IntakeOptions(review_mode=ReviewMode.AUDITOR)}}).start()
    yield s
    await s.stop()


class People:
    """Two auditors (one reviews, one signs off) and the cities' contacts."""

    def __init__(self, stack: Stack, ana: str, ben: str) -> None:
        self.stack = stack
        self.ana = actors.Auditor(stack, ana, "Ana Ramos")
        self.ben = actors.Auditor(stack, ben, "Ben Okafor")

    async def review(self, submission_id: str, changes: list[actors.Change] = ()) -> None:
        """Claimed, decided (the changes, the rest confirmed), signed off by the other."""
        await self.ana.review(submission_id, list(changes), approver=self.ben)

    def city(self, city_token: str, submission_id: str) -> actors.City:
        return actors.City(self.stack, "", "", token=city_token, submission_id=submission_id)

    async def decline_debrief(self, city_token: str, submission_id: str) -> None:
        """The city declines its debrief call once it is offered."""
        city = self.city(city_token, submission_id)
        await eventually(city.debrief_offered, timeout=90, interval=0.3)
        await city.decline_debrief()


@pytest.fixture
async def people(stack) -> People:
    """Real staff accounts (created as an operator would, signed in through intake)."""
    return People(stack, await stack.create_staff("ana@auditors.example.org", "Ana Ramos", Role.AUDITOR),
                  await stack.create_staff("ben@auditors.example.org", "Ben Okafor", Role.AUDITOR))

"""Correcting a city's registration facts (name, country, state or province, population),
always with a reason. The city's staff correct them until its assessment is submitted;
after that only an operator can (the facts were what the review and the benchmarks took).

Every change is one `CityFactChange` row (who, when, each fact's old and new value, why),
a `city.facts_changed` event (audit shows it on the city's case) and the city's new
profile (`city.updated`), all in the caller's transaction: nothing is half-written.

A correction and a submission of the same city serialise on the city's row: both lock it
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite has one writer at a time). A correction
that commits first is in the submission's frozen facts; a submission that commits first
makes the city staff's correction, which waited for it, see the assessment submitted
(409 `city_facts_locked`) — never a submission frozen with facts its city's own staff
changed under it, never a correction lost."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import accounts, registration
from services.intake.domain import AssessmentState, EligibilityRule
from services.intake.errors import CityAlreadyRegistered, CityFactsLocked, Forbidden
from services.intake.models import Assessment, City, CityFactChange, User
from shared.catalog.geography import population_band
from shared.contracts.events import CityFactsChanged, Subject, make_event
from shared.contracts.payloads.intake import FactChange
from shared.contracts.text import Name, SingleLine
from shared.infra.auth import Principal, Role
from shared.infra.orm import utcnow
from shared.infra.outbox import add_event

# The facts, in the order pages list them.
FACTS = ("name", "country", "state", "population")


class CityFactsUpdate(BaseModel):
    """The facts to correct (any left out stay as they are) and why."""

    model_config = ConfigDict(str_strip_whitespace=True, json_schema_extra={"examples": [
        {"population": 31_000, "reason": "The 2025 census counted 31,000 residents."}]})

    name: Name | None = Field(default=None, min_length=2, max_length=200)
    country: str | None = Field(default=None, pattern="^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    state: SingleLine | None = Field(default=None, max_length=100,
                                     description="ISO 3166-2 code of the (new) country; empty where it has none")
    population: int | None = Field(default=None, gt=0, le=50_000_000)
    reason: SingleLine = Field(min_length=3, max_length=1000, description="why the facts change (shown to auditors)")


class FactChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    changes: dict = Field(description="{fact: {old, new}} for each fact that changed")
    reason: str
    changed_by: str
    changed_by_name: str
    changed_by_role: str
    changed_at: datetime


async def submitted(session: AsyncSession, city_id: str) -> bool:
    """Whether the city has an assessment submitted (and not withdrawn)."""
    return await session.scalar(select(Assessment.id).where(
        Assessment.city_id == city_id, Assessment.status == AssessmentState.SUBMITTED).limit(1)) is not None


async def may_change(session: AsyncSession, principal: Principal, city: City) -> None:
    """The city's own staff before submission; an operator at any time; nobody else."""
    if principal.role == Role.OPERATOR:
        return
    if principal.role != Role.CITY:
        raise Forbidden("Only the city's staff or an operator correct a city's facts.")
    if await submitted(session, city.id):
        raise CityFactsLocked("The city's assessment was submitted: an operator of the programme can correct "
                              "its facts now.", field="city", reason="assessment submitted")


async def change(session: AsyncSession, principal: Principal, city_id: str, data: CityFactsUpdate, *,
                 eligibility: EligibilityRule) -> City:
    """Check the new facts as registration does (place, eligibility, one account per city),
    then store them with their record and events. No change at all records nothing."""
    city = await accounts.get_city(session, principal, city_id)
    # Locked, read afresh, before the submission check: a submission freezing this city now
    # holds the lock until it commits, and then the check sees it (module docstring).
    await session.refresh(city, with_for_update=True)
    await may_change(session, principal, city)
    new = {"name": city.name, "country": city.country, "state": city.state, "population": city.population,
           **data.model_dump(include=set(FACTS), exclude_none=True)}
    new["country"] = new["country"].upper()
    if new["country"] != city.country and data.state is None:
        new["state"] = ""  # a new country needs its own state: check_place says which
    registration.check_eligible(eligibility, name=new["name"], population=new["population"], country=new["country"])
    new["state"] = accounts.check_place(new["country"], new["state"])
    region = accounts.check_region(new["country"], new["state"])
    changed = {f: {"old": getattr(city, f), "new": new[f]} for f in FACTS if getattr(city, f) != new[f]}
    if not changed:
        return city
    if {"name", "state", "country"} & changed.keys() and await accounts.city_taken(
            session, new["name"], new["state"], new["country"], other_than=city.id):
        raise CityAlreadyRegistered(f"{new['name']} is already registered.", field="name", reason="already registered",
                                    name=new["name"])
    user = await session.get(User, principal.sub)
    record = CityFactChange(city_id=city.id, changes=changed, reason=data.reason, changed_by=principal.sub,
                            changed_by_name=(user.name or user.email) if user else principal.name,
                            changed_by_role=principal.role.value, changed_at=utcnow())
    session.add(record)
    for fact in changed:
        setattr(city, fact, new[fact])
    city.region, city.population_band = region, population_band(city.population)
    await session.flush()
    await add_event(session, make_event(Subject.CITY_FACTS_CHANGED, CityFactsChanged(
        change_id=record.id, city_id=city.id, city_name=city.name, reason=record.reason,
        changes=[FactChange(fact=f, old=v["old"], new=v["new"]) for f, v in changed.items()],
        changed_by=record.changed_by, changed_by_name=record.changed_by_name,
        changed_by_role=record.changed_by_role, changed_at=record.changed_at,
    ), city_id=city.id, correlation_id=city.id))
    await accounts.publish_city(session, city, Subject.CITY_UPDATED)
    return city


async def history(session: AsyncSession, principal: Principal, city_id: str) -> list[CityFactChange]:
    city = await accounts.get_city(session, principal, city_id)
    return list((await session.scalars(select(CityFactChange).where(CityFactChange.city_id == city.id)
                                       .order_by(CityFactChange.changed_at.desc()))).all())

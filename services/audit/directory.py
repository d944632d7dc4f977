"""Audit's own directories, kept from intake's events: the staff (auditors' names for the
queue, assignment, sign-off) and cities (their place, for conflicts of interest)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import domain
from services.audit.domain import CLOSED
from services.audit.models import City, CityFactChange, ReviewCase, Staff
from shared.contracts.events import CityFactsChanged, CityProfile, UserRegistered
from shared.infra.auth import Principal, Role
from shared.infra.orm import insert_if_absent, utcnow

STAFF_ROLES = (Role.AUDITOR.value, Role.OPERATOR.value)


async def record_user(session: AsyncSession, user: UserRegistered) -> None:
    """Auditors and operators only: audit has no business with city staff's accounts."""
    if user.role not in STAFF_ROLES:
        return
    values = dict(email=user.email, name=user.name, role=user.role, language=user.language)
    if user.timezone:  # chosen in their settings (user.updated); a registration carries none
        values["timezone"] = user.timezone
    if not await insert_if_absent(session, Staff, user_id=user.user_id, registered_at=utcnow(), **values):
        await session.execute(update(Staff).where(Staff.user_id == user.user_id).values(**values))


async def know(session: AsyncSession, principal: Principal) -> None:
    """A staff member seen acting before their registration event arrived is known by the
    name in their token until it does."""
    if principal.role.value in STAFF_ROLES:
        await insert_if_absent(session, Staff, user_id=principal.sub, name=principal.name, email="",
                               role=principal.role.value, language="en", registered_at=utcnow())


async def record_city(session: AsyncSession, city: CityProfile) -> None:
    # Intake sends ISO 3166-2 codes; an older event replayed may carry a spelling ("Ontario").
    state = domain.state_code(city.country, city.state)
    values = dict(name=city.name, state=state, country=city.country.upper(), population=city.population,
                  region=city.region, population_band=city.population_band, updated_at=utcnow())
    if not await insert_if_absent(session, City, city_id=city.city_id, **values):
        await session.execute(update(City).where(City.city_id == city.city_id).values(**values))
    # Open cases show the city as it is now (name, place): conflicts follow a move too.
    await session.execute(
        update(ReviewCase).where(ReviewCase.city_id == city.city_id, ReviewCase.status.not_in([s.value for s in CLOSED]))
        .values(city_name=city.name, state=state, country=city.country.upper(), region=city.region,
                population_band=city.population_band)
        .execution_options(synchronize_session=False))


async def record_fact_change(session: AsyncSession, change: CityFactsChanged) -> None:
    """Kept once per change (a redelivered event inserts nothing)."""
    await insert_if_absent(session, CityFactChange, change_id=change.change_id, city_id=change.city_id,
                           changes=[c.model_dump(mode="json") for c in change.changes], reason=change.reason,
                           changed_by=change.changed_by, changed_by_name=change.changed_by_name,
                           changed_by_role=change.changed_by_role, changed_at=change.changed_at)


async def fact_changes(session: AsyncSession, city_id: str | None) -> list[CityFactChange]:
    """A city's corrections, newest first."""
    if not city_id:
        return []
    return list((await session.scalars(select(CityFactChange).where(CityFactChange.city_id == city_id)
                                       .order_by(CityFactChange.changed_at.desc()))).all())


async def auditors(session: AsyncSession) -> list[Staff]:
    rows = await session.scalars(select(Staff).where(Staff.role == Role.AUDITOR.value).order_by(Staff.name,
                                                                                                  Staff.email))
    return list(rows.all())


async def names(session: AsyncSession, ids: set[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(Staff.user_id, Staff.name, Staff.email).where(Staff.user_id.in_(wanted)))
    found = {r.user_id: r.name or r.email or r.user_id for r in rows}
    return {i: found.get(i, i) for i in wanted}


async def city(session: AsyncSession, city_id: str | None) -> City | None:
    return await session.get(City, city_id) if city_id else None

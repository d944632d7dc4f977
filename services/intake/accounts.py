"""City registration and staff sign-in. Passwords are hashed with Argon2 (argon2-cffi)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.errors import (
    CityAlreadyRegistered,
    EmailTaken,
    Forbidden,
    NotFound,
    SignInFailed,
    UnknownState,
)
from services.intake.models import City, User
from services.intake.throttle import SignInThrottle
from shared.catalog import places
from shared.catalog.geography import population_band, region_for
from shared.catalog.timezones import current_zones, timezone_for, valid_timezone
from shared.contracts.events import CityProfile, Subject, UserRegistered, make_event
from shared.infra.outbox import add_event
from shared.contracts.text import Name, SingleLine
from shared.i18n import Lang
from shared.infra.auth import Principal, Role

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _unknown_account_hash() -> str:
    """Checked against when the email is unknown, so an unknown email costs what a known
    one does (no account probing by timing)."""
    return _hasher.hash("no account has this password")


class CityCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, json_schema_extra={"examples": [{
        "name": "Springfield", "state": "US-IL", "country": "US", "population": 116250,
        "contact_name": "Jordan Lee", "contact_email": "jordan.lee@springfield.gov",
        "password": "correct-horse-battery", "language": "en",
    }]})

    name: Name = Field(min_length=2, max_length=200, examples=["Springfield"])
    state: SingleLine = Field(default="", max_length=100, examples=["US-IL"],
                              description="state or province: its ISO 3166-2 code (e.g. US-IL, CA-ON); required "
                                          "wherever the country has subdivisions, empty where it has none. An older "
                                          "spelling (IL, Illinois) is read as its code; anything else is refused")
    country: str = Field(pattern="^[A-Za-z]{2}$", examples=["US"], description="ISO 3166-1 alpha-2")
    population: int = Field(gt=0, le=50_000_000, examples=[116250])
    contact_name: Name = Field(min_length=1, max_length=200, examples=["Jordan Lee"])
    contact_email: EmailStr = Field(examples=["jordan.lee@springfield.gov"])
    password: str = Field(min_length=10, max_length=200, description="for the first staff account")
    language: Lang = "en"


class CityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    state: str = Field(description="ISO 3166-2 code (US-IL, CA-ON); empty where the country has none")
    country: str
    population: int
    region: str | None
    population_band: str | None
    contact_name: str
    contact_email: str
    timezone: str
    language: str


class CityUpdate(BaseModel):
    """The city's settings, which its staff change at any time: the time zone its calls and
    dates are shown in, and the language its mail and report are written in. Its facts
    (name, place, population) are corrected with a reason instead (`city_facts`)."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"timezone": "America/Chicago", "language": "es"}]})

    timezone: str | None = Field(default=None, max_length=64, description="an IANA time zone")
    language: Lang | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not valid_timezone(value):
            raise ValueError("not a known time zone (for example America/Sao_Paulo)")
        return value


class StaffCreate(BaseModel):
    """Another staff member of the same city; they sign in with this password."""

    model_config = ConfigDict(str_strip_whitespace=True, json_schema_extra={"examples": [{
        "email": "sam.ortiz@springfield.gov", "name": "Sam Ortiz", "password": "another-long-secret",
    }]})

    email: EmailStr
    name: Name = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=200)
    language: Lang = "en"


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: str
    city_id: str | None
    language: str
    timezone: str | None = Field(default=None, description="the person's own zone (staff); none until chosen")
    created_at: datetime


def check_place(country: str, state: str) -> str:
    """The city's state as its ISO 3166-2 code; an older spelling ("IL", "Ontario") is read as
    its code. Refused (UnknownState, field `state`): a value that names no subdivision of the
    country, none where the country has subdivisions, one where it has none."""
    country = (country or "").strip().upper()
    code = places.normalise(country, state)
    if code:
        return code
    example = places.subdivisions(country)[0].code if places.has_subdivisions(country) else ""
    if code is None and not places.has_subdivisions(country):
        reason = f"{country} has no states or provinces: leave it empty"
    elif code is None:
        reason = f"not a state or province of {country}: choose one of its ISO 3166-2 codes, e.g. {example}"
    elif places.has_subdivisions(country):
        reason = f"choose the state or province (an ISO 3166-2 code of {country}, e.g. {example})"
    else:
        return ""
    raise UnknownState(f"state: {reason}", field="state", reason=reason, country=country)


def check_region(country: str, state: str):
    """The city's region (from its country and state code)."""
    try:
        return region_for(country.upper(), state)
    except ValueError:  # a US state without a Census region: none in ISO 3166-2 today
        reason = "a US city needs a US state"
        raise UnknownState(f"state: {reason}", field="state", reason=reason, country=country.upper()) from None


async def email_taken(session: AsyncSession, email: str) -> bool:
    return await session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None


async def city_taken(session: AsyncSession, name: str, state: str, country: str, *, other_than: str | None = None
                     ) -> bool:
    """Whether another city of this name is registered in this place (`other_than`: the city
    whose own name is being corrected, e.g. only its capitals)."""
    q = select(City.id).where(func.lower(City.name) == name.lower(), City.state == state,
                              City.country == country.upper())
    if other_than:
        q = q.where(City.id != other_than)
    return await session.scalar(q) is not None


async def register_city(session: AsyncSession, data: CityCreate, *, password_hash: str | None = None
                        ) -> tuple[City, User]:
    """Create the city and its first staff account (once the contact's address is
    confirmed, see `registration`; also the CLI and fixtures)."""
    country = data.country.upper()
    state = check_place(country, data.state)
    region = check_region(country, state)
    if await city_taken(session, data.name, state, country):
        raise CityAlreadyRegistered(f"{data.name} is already registered; ask its staff to add you.", name=data.name)
    if await email_taken(session, data.contact_email):
        raise EmailTaken("contact_email: an account with this email already exists", field="contact_email",
                         reason="an account with this email already exists")
    city = City(
        name=data.name.strip(), state=state, country=country, population=data.population,
        region=region, population_band=population_band(data.population),
        contact_name=data.contact_name, contact_email=data.contact_email.lower(),
        timezone=timezone_for(country, state), language=data.language,
    )
    session.add(city)
    await session.flush()
    await publish_city(session, city, Subject.CITY_REGISTERED)
    user = await create_user(session, email=data.contact_email, name=data.contact_name,
                             password_hash=password_hash or hash_password(data.password), role=Role.CITY,
                             city_id=city.id, language=data.language)
    return city, user


def city_profile(city: City) -> CityProfile:
    return CityProfile(city_id=city.id, name=city.name, state=city.state, country=city.country,
                       population=city.population, region=city.region, population_band=city.population_band,
                       timezone=city.timezone, language=city.language)


async def publish_city(session: AsyncSession, city: City, subject: str) -> None:
    """Other services keep their own copy of what they need of a city (notify: its time
    zone and language; audit: its place for conflicts of interest)."""
    await add_event(session, make_event(subject, city_profile(city), city_id=city.id, correlation_id=city.id))


async def create_user(session: AsyncSession, *, email: str, name: str, password_hash: str, role: Role,
                      city_id: str | None = None, language: str = "en") -> User:
    if role == Role.CITY and not city_id:
        raise ValueError("a city user needs a city")
    if await email_taken(session, email):
        raise EmailTaken("email: an account with this email already exists", field="email",
                         reason="an account with this email already exists")
    user = User(email=email.lower(), name=name, password_hash=password_hash, role=role.value, city_id=city_id,
                language=language)
    session.add(user)
    await session.flush()
    # Audit keeps its directory of auditors, notify its recipients: from this event.
    await add_event(session, make_event(Subject.USER_REGISTERED, UserRegistered(
        user_id=user.id, email=user.email, name=user.name, role=user.role, city_id=city_id, language=language),
        city_id=city_id, correlation_id=user.id))
    return user


async def create_staff_user(
    session: AsyncSession, *, email: str, name: str, password: str, role: Role, city_id: str | None = None
) -> User:
    """Auditors and operators (from the CLI)."""
    return await create_user(session, email=email, name=name, password_hash=hash_password(password), role=role,
                             city_id=city_id)


async def get_city(session: AsyncSession, principal: Principal, city_id: str) -> City:
    """A city a principal may see; another city's is reported as absent (no probing)."""
    city = await session.get(City, city_id)
    if city is None or not principal.can_see_city(city_id):
        raise NotFound(f"no city {city_id}")
    return city


async def update_city(session: AsyncSession, principal: Principal, city_id: str, data: CityUpdate) -> City:
    """A city's staff change its time zone or mail language; other services learn it."""
    city = await get_city(session, principal, city_id)
    ensure_city_staff(principal)
    changes = data.model_dump(exclude_none=True)
    if changes and any(getattr(city, k) != v for k, v in changes.items()):
        for key, value in changes.items():
            setattr(city, key, value)
        await session.flush()
        await publish_city(session, city, Subject.CITY_UPDATED)
    return city


def ensure_city_staff(principal: Principal) -> None:
    if principal.role != Role.CITY:
        raise Forbidden("Only the city's own staff add staff accounts.")


class MeUpdate(BaseModel):
    """What a person sets for themselves: their own time zone (staff read and enter times in
    it), one of the current zones of the programme's countries."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"timezone": "America/Chicago"}]})

    timezone: str = Field(max_length=64, description="a current IANA zone of the programme's countries")

    @field_validator("timezone")
    @classmethod
    def _current_zone(cls, value: str) -> str:
        if value not in current_zones():
            raise ValueError("not a current time zone of the programme's countries (for example America/Chicago)")
        return value


async def update_me(session: AsyncSession, principal: Principal, data: MeUpdate) -> User:
    """A person's own settings; other services learn them (`user.updated`)."""
    user = await session.get(User, principal.sub)
    if user is None:
        raise NotFound("this account no longer exists")
    if user.timezone != data.timezone:
        user.timezone = data.timezone
        await session.flush()
        await add_event(session, make_event(Subject.USER_UPDATED, UserRegistered(
            user_id=user.id, email=user.email, name=user.name, role=user.role, city_id=user.city_id,
            language=user.language, timezone=user.timezone), city_id=user.city_id, correlation_id=user.id))
    return user


async def list_city_users(session: AsyncSession, principal: Principal, city_id: str) -> list[User]:
    city = await get_city(session, principal, city_id)
    return list((await session.scalars(
        select(User).where(User.city_id == city.id).order_by(User.created_at, User.email))).all())


async def user_names(session: AsyncSession, user_ids: set[str]) -> dict[str, str]:
    """Display names of users (for "changed by ..." messages)."""
    ids = {u for u in user_ids if u}
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {r.id: r.name or r.email for r in rows}


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    # The same work and the same answer for an unknown email and a wrong password. Argon2
    # is CPU-bound by design: off the event loop.
    stored = user.password_hash if user is not None else _unknown_account_hash()
    if not await asyncio.to_thread(verify_password, stored, password) or user is None:
        raise SignInFailed("The email or password is not correct.")
    return user


async def sign_in(session: AsyncSession, throttle: SignInThrottle, *, email: str, password: str,
                  client: str) -> User:
    """Authenticate unless this (account, client) waits or the client is over its windows
    (RateLimited), counting failures; a success clears the pair's."""
    await throttle.check(email, client)
    try:
        user = await authenticate(session, email, password)
    except SignInFailed:
        await throttle.failed(email, client)
        raise
    await throttle.succeeded(email, client)
    return user


def principal_for(user: User) -> Principal:
    return Principal(sub=user.id, role=Role(user.role), city_id=user.city_id, name=user.name)

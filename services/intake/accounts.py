"""City registration and staff sign-in. Passwords are hashed with Argon2 (argon2-cffi)."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, EmailStr, Field
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
from shared.catalog.geography import population_band, region_for
from shared.infra.auth import Principal, Role

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class CityCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, json_schema_extra={"examples": [{
        "name": "Springfield", "state": "IL", "country": "US", "population": 116250,
        "contact_name": "Jordan Lee", "contact_email": "jordan.lee@springfield.gov",
        "password": "correct-horse-battery", "language": "en",
    }]})

    name: str = Field(min_length=2, max_length=200, examples=["Springfield"])
    state: str = Field(default="", max_length=100, examples=["IL"],
                       description="state or province; required in the United States (code or name)")
    country: str = Field(pattern="^[A-Za-z]{2}$", examples=["US"], description="ISO 3166-1 alpha-2")
    population: int = Field(gt=0, le=50_000_000, examples=[116250])
    contact_name: str = Field(min_length=1, max_length=200, examples=["Jordan Lee"])
    contact_email: EmailStr = Field(examples=["jordan.lee@springfield.gov"])
    password: str = Field(min_length=10, max_length=200, description="for the first staff account")
    language: str = Field(default="en", pattern="^(en|es|pt)$")


class CityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    state: str
    country: str
    population: int
    region: str | None
    population_band: str | None
    contact_name: str
    contact_email: str


class StaffCreate(BaseModel):
    """Another staff member of the same city; they sign in with this password."""

    model_config = ConfigDict(str_strip_whitespace=True, json_schema_extra={"examples": [{
        "email": "sam.ortiz@springfield.gov", "name": "Sam Ortiz", "password": "another-long-secret",
    }]})

    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=200)
    language: str = Field(default="en", pattern="^(en|es|pt)$")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: str
    city_id: str | None
    language: str
    created_at: datetime


def _region(country: str, state: str):
    try:
        return region_for(country, state)
    except ValueError:
        reason = "name a US state (e.g. IL or Illinois)" if state else "a US city needs its state"
        raise UnknownState(f"state: {reason}", field="state", reason=reason) from None


async def register_city(session: AsyncSession, data: CityCreate) -> tuple[City, User]:
    country = data.country.upper()
    region = _region(country, data.state)
    existing = await session.scalar(
        select(City).where(func.lower(City.name) == data.name.lower(), City.state == data.state, City.country == country)
    )
    if existing is not None:
        raise CityAlreadyRegistered(f"{data.name} is already registered; ask its staff to add you.", name=data.name)
    if await session.scalar(select(User).where(func.lower(User.email) == data.contact_email.lower())):
        raise EmailTaken("contact_email: an account with this email already exists", field="contact_email",
                         reason="an account with this email already exists")
    city = City(
        name=data.name.strip(), state=data.state.strip(), country=country, population=data.population,
        region=region, population_band=population_band(data.population),
        contact_name=data.contact_name, contact_email=data.contact_email.lower(),
    )
    session.add(city)
    await session.flush()
    user = User(
        email=data.contact_email.lower(), name=data.contact_name, password_hash=hash_password(data.password),
        role=Role.CITY.value, city_id=city.id, language=data.language,
    )
    session.add(user)
    await session.flush()
    return city, user


async def create_staff_user(
    session: AsyncSession, *, email: str, name: str, password: str, role: Role, city_id: str | None = None
) -> User:
    if role == Role.CITY and not city_id:
        raise ValueError("a city user needs a city")
    if await session.scalar(select(User).where(func.lower(User.email) == email.lower())):
        raise EmailTaken("email: an account with this email already exists", field="email",
                         reason="an account with this email already exists")
    user = User(email=email.lower(), name=name, password_hash=hash_password(password), role=role.value, city_id=city_id)
    session.add(user)
    await session.flush()
    return user


async def get_city(session: AsyncSession, principal: Principal, city_id: str) -> City:
    """A city a principal may see; another city's is reported as absent (no probing)."""
    city = await session.get(City, city_id)
    if city is None or not principal.can_see_city(city_id):
        raise NotFound(f"no city {city_id}")
    return city


async def add_city_user(session: AsyncSession, principal: Principal, city_id: str, data: StaffCreate) -> User:
    """A city's staff member adds a colleague to the same city (never to another one)."""
    city = await get_city(session, principal, city_id)
    if principal.role != Role.CITY:
        raise Forbidden("Only the city's own staff add staff accounts.")
    user = await create_staff_user(session, email=data.email, name=data.name, password=data.password,
                                   role=Role.CITY, city_id=city.id)
    user.language = data.language
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
    # Same answer for an unknown email and a wrong password: no account probing.
    if user is None or not verify_password(user.password_hash, password):
        raise SignInFailed("The email or password is not correct.")
    return user


def principal_for(user: User) -> Principal:
    return Principal(sub=user.id, role=Role(user.role), city_id=user.city_id, name=user.name)

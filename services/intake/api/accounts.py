"""Accounts: register a city, sign in, the signed-in user, a city's staff."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.intake import accounts
from services.intake.api.docs import AUTH, problems
from services.intake.deps import CurrentCity
from services.intake.errors import NotFound
from services.intake.models import City, User
from shared.infra.auth import CurrentPrincipal, issue_token
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["accounts"])


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    city_id: str | None = None


class Registered(BaseModel):
    city: accounts.CityRead
    token: TokenRead


class Credentials(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "jordan.lee@springfield.gov", "password": "correct-horse-battery"}]})

    email: EmailStr
    password: str = Field(min_length=1, max_length=200)


class MeRead(BaseModel):
    user: accounts.UserRead
    city: accounts.CityRead | None = None


@router.post("/cities", status_code=status.HTTP_201_CREATED, response_model=Registered, summary="Register a city",
             description="Registers the city and its first staff account (the contact), derives the region and "
                         "population band, and returns a token for that account.",
             responses=problems("city_already_registered", "email_taken", "unknown_state", "invalid_input"))
async def register_city(data: accounts.CityCreate, runtime: Runtime) -> Registered:
    async with runtime.db.transaction() as session:
        city, user = await accounts.register_city(session, data)
        principal = accounts.principal_for(user)
    token = issue_token(principal, runtime.settings.auth)
    return Registered(city=accounts.CityRead.model_validate(city),
                      token=TokenRead(access_token=token, role=principal.role, city_id=city.id))


@router.post("/auth/token", response_model=TokenRead, summary="Sign in",
             description="Exchanges email and password for a bearer token (JWT). City staff, auditors and "
                         "operators all sign in here.",
             responses=problems("sign_in_failed", "invalid_input"))
async def sign_in(creds: Credentials, runtime: Runtime, session: Session) -> TokenRead:
    user = await accounts.authenticate(session, creds.email, creds.password)
    principal = accounts.principal_for(user)
    return TokenRead(access_token=issue_token(principal, runtime.settings.auth), role=principal.role,
                     city_id=user.city_id)


@router.get("/me", response_model=MeRead, summary="The signed-in user (and city)", responses=problems(*AUTH, NotFound))
async def me(principal: CurrentPrincipal, session: Session) -> MeRead:
    user = await session.get(User, principal.sub)
    if user is None:
        raise NotFound("this account no longer exists")
    city = await session.get(City, user.city_id) if user.city_id else None
    return MeRead(user=accounts.UserRead.model_validate(user),
                  city=accounts.CityRead.model_validate(city) if city else None)


@router.get("/cities/{city_id}", response_model=accounts.CityRead, summary="A city",
            responses=problems(*AUTH, NotFound))
async def get_city(city_id: str, principal: CurrentPrincipal, session: Session) -> accounts.CityRead:
    return accounts.CityRead.model_validate(await accounts.get_city(session, principal, city_id))


@router.get("/cities/{city_id}/users", response_model=list[accounts.UserRead], summary="The city's staff accounts",
            responses=problems(*AUTH, NotFound))
async def list_city_users(city_id: str, principal: CurrentPrincipal, session: Session) -> list[accounts.UserRead]:
    return [accounts.UserRead.model_validate(u) for u in await accounts.list_city_users(session, principal, city_id)]


@router.post("/cities/{city_id}/users", status_code=status.HTTP_201_CREATED, response_model=accounts.UserRead,
             summary="Add a staff member to the city",
             description="A city's staff member adds a colleague, who signs in with the email and password "
                         "given here. Several staff may edit the same draft (see optimistic concurrency).",
             responses=problems(*AUTH, NotFound, "email_taken", "invalid_input"))
async def add_city_user(city_id: str, data: accounts.StaffCreate, principal: CurrentCity,
                        runtime: Runtime) -> accounts.UserRead:
    async with runtime.db.transaction() as session:
        user = await accounts.add_city_user(session, principal, city_id, data)
        await session.flush()
        return accounts.UserRead.model_validate(user)

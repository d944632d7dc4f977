"""Accounts: register a city, sign in, the signed-in user, a city's staff."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.intake import accounts, city_facts, registration
from services.intake.api.docs import AUTH, problems
from services.intake.deps import ClientAddress, CurrentCity, Options, RegistrationLimits, Throttle
from services.intake.errors import NotFound
from shared.catalog.loader import load_catalog
from services.intake.models import City, User
from shared.infra.auth import CurrentPrincipal, issue_token
from shared.web.deps import Runtime, Session
from shared.web.problems import correlation_id

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


def link_base(runtime, request: Request) -> str:
    """Where mailed links point: the configured public URL, else the one this was asked on."""
    return runtime.settings.service.public_url or str(request.base_url)


@router.post("/cities", status_code=status.HTTP_202_ACCEPTED, response_model=registration.ConfirmationSent,
             summary="Register a city (confirmed by mail)",
             description="Asks to register the city and its first staff account (the contact). A link that "
                         "confirms the contact's address is mailed to it; following it (or `POST "
                         "/api/v1/cities/confirm` with its token) creates the account and returns a token. Every "
                         "well-formed request answers the same, so no one learns from it whether an address or a "
                         "city is registered already: the address's owner is told by mail instead.",
             responses=problems("unknown_state", "ineligible_city", "invalid_input", "rate_limited"))
async def register_city(data: accounts.CityCreate, runtime: Runtime, options: Options,
                        request: Request, limits: RegistrationLimits,
                        client: ClientAddress) -> registration.ConfirmationSent:
    async with runtime.db.transaction() as session:
        sent = await registration.request_city(session, data, link_base=link_base(runtime, request),
                                               ttl=timedelta(hours=options.registration_link_hours),
                                               eligibility=load_catalog(options.catalog_version).eligibility,
                                               limits=limits, client=client,
                                               correlation_id=correlation_id(request) or "")
    runtime.wake_relay()
    return sent


@router.post("/cities/confirm", status_code=status.HTTP_201_CREATED, response_model=Registered,
             summary="Confirm an address: create the account",
             description="Takes the token of a mailed confirmation link (registration or invitation), creates "
                         "the account (and, for a registration, the city with its region and population band) "
                         "and returns a token for it. A link works once, until it expires.",
             responses=problems("registration_link_invalid", "city_already_registered", "email_taken",
                                "invalid_input"))
async def confirm(data: registration.Confirmation, runtime: Runtime) -> Registered:
    async with runtime.db.transaction() as session:
        city, user = await registration.confirm(session, data.token)
        principal = accounts.principal_for(user)
    token = issue_token(principal, runtime.settings.auth)
    return Registered(city=accounts.CityRead.model_validate(city),
                      token=TokenRead(access_token=token, role=principal.role, city_id=city.id))


@router.post("/auth/token", response_model=TokenRead, summary="Sign in",
             description="Exchanges email and password for a bearer token (JWT). City staff, auditors and "
                         "operators all sign in here.",
             responses=problems("sign_in_failed", "rate_limited", "invalid_input"))
async def sign_in(creds: Credentials, runtime: Runtime, session: Session, throttle: Throttle,
                  client: ClientAddress) -> TokenRead:
    user = await accounts.sign_in(session, throttle, email=creds.email, password=creds.password, client=client)
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


@router.patch("/me", response_model=accounts.UserRead, summary="The signed-in person's own settings",
              description="Their own time zone (auditors and operators read and enter times in it): one of "
                          "the current zones of the programme's countries (no alias such as US/Eastern).",
              responses=problems(*AUTH, NotFound, "invalid_input"))
async def update_me(data: accounts.MeUpdate, principal: CurrentPrincipal, runtime: Runtime) -> accounts.UserRead:
    async with runtime.db.transaction() as session:
        body = accounts.UserRead.model_validate(await accounts.update_me(session, principal, data))
    runtime.wake_relay()
    return body


@router.get("/cities/{city_id}", response_model=accounts.CityRead, summary="A city",
            responses=problems(*AUTH, NotFound))
async def get_city(city_id: str, principal: CurrentPrincipal, session: Session) -> accounts.CityRead:
    return accounts.CityRead.model_validate(await accounts.get_city(session, principal, city_id))


@router.patch("/cities/{city_id}", response_model=accounts.CityRead,
              summary="Change the city's time zone or language",
              description="The time zone the city's calls and dates are shown in (derived from its place at "
                          "registration) and the language of its mail and report. Its name, place and "
                          "population are corrected with a reason: `PATCH /api/v1/cities/{city_id}/facts`.",
              responses=problems(*AUTH, NotFound, "invalid_input"))
async def update_city(city_id: str, data: accounts.CityUpdate, principal: CurrentCity,
                      runtime: Runtime) -> accounts.CityRead:
    async with runtime.db.transaction() as session:
        city = await accounts.update_city(session, principal, city_id, data)
        body = accounts.CityRead.model_validate(city)
    runtime.wake_relay()
    return body


@router.patch("/cities/{city_id}/facts", response_model=accounts.CityRead,
              summary="Correct the city's facts (with a reason)",
              description="Its name, country, state or province and population, as registered. The city's staff "
                          "correct them until its assessment is submitted (then 409 `city_facts_locked`); an "
                          "operator at any time. The new facts must pass registration's checks (a place of the "
                          "country, `ineligible_city` for a population under the minimum or a country outside "
                          "the programme). Each change is recorded (who, when, old and new, the reason) and "
                          "announced; auditors see it on the city's case. Nothing changes when a check fails.",
              responses=problems(*AUTH, NotFound, "invalid_input", "unknown_state", "ineligible_city",
                                 "city_facts_locked", "city_already_registered"))
async def correct_city_facts(city_id: str, data: city_facts.CityFactsUpdate, principal: CurrentPrincipal,
                             runtime: Runtime, options: Options) -> accounts.CityRead:
    async with runtime.db.transaction() as session:
        city = await city_facts.change(session, principal, city_id, data,
                                       eligibility=load_catalog(options.catalog_version).eligibility)
        body = accounts.CityRead.model_validate(city)
    runtime.wake_relay()
    return body


@router.get("/cities/{city_id}/facts/changes", response_model=list[city_facts.FactChangeRead],
            summary="Every correction of the city's facts, newest first", responses=problems(*AUTH, NotFound))
async def city_fact_changes(city_id: str, principal: CurrentPrincipal,
                            session: Session) -> list[city_facts.FactChangeRead]:
    return [city_facts.FactChangeRead.model_validate(c) for c in await city_facts.history(session, principal, city_id)]


@router.get("/cities/{city_id}/users", response_model=list[accounts.UserRead], summary="The city's staff accounts",
            responses=problems(*AUTH, NotFound))
async def list_city_users(city_id: str, principal: CurrentPrincipal, session: Session) -> list[accounts.UserRead]:
    return [accounts.UserRead.model_validate(u) for u in await accounts.list_city_users(session, principal, city_id)]


@router.post("/cities/{city_id}/users", status_code=status.HTTP_202_ACCEPTED,
             response_model=registration.ConfirmationSent, summary="Invite a colleague to the city",
             description="A city's staff member invites a colleague, who confirms by the mailed link and then "
                         "signs in with the email and password given here. Several staff may edit the same draft "
                         "(see optimistic concurrency). The answer is the same whether or not the address has an "
                         "account already.",
             responses=problems(*AUTH, NotFound, "invalid_input", "rate_limited"))
async def add_city_user(city_id: str, data: accounts.StaffCreate, principal: CurrentCity, runtime: Runtime,
                        options: Options, request: Request, limits: RegistrationLimits,
                        client: ClientAddress) -> registration.ConfirmationSent:
    async with runtime.db.transaction() as session:
        sent = await registration.request_staff(session, principal, city_id, data,
                                                link_base=link_base(runtime, request),
                                                ttl=timedelta(hours=options.registration_link_hours),
                                                limits=limits, client=client,
                                                correlation_id=correlation_id(request) or "")
    runtime.wake_relay()
    return sent

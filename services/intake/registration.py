"""Accounts are created only once their address is confirmed, and a request never tells
anyone whether an address (or a city) already has an account.

A registration (a new city and its contact) or an invitation (a colleague added by a city's
staff) is kept as a `PendingRegistration` and mailed a single-use link; following it creates
the account. The API answers every well-formed request the same way — 202, "we sent a
link" — whether the address is new, belongs to a city's staff or to an auditor, and with the
same work done (the password is always hashed). The address's owner alone learns, by mail,
that it already has an account (`registration.refused`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import accounts, domain
from services.intake.domain import EligibilityRule
from services.intake.errors import IneligibleCity, RegistrationLinkInvalid
from services.intake.models import City, PendingRegistration, User
from services.intake.throttle import RegistrationThrottle
from shared.contracts.events import RegistrationRefused, RegistrationRequested, Subject, make_event
from shared.contracts.vocabulary import RegistrationRefusal
from shared.infra.auth import Principal
from shared.infra.orm import utcnow
from shared.infra.outbox import add_event

CITY, STAFF = "city", "staff"


class ConfirmationSent(BaseModel):
    """The same answer for every well-formed request (no address is confirmed to exist)."""

    status: str = "confirmation_sent"
    email: str
    expires_in_hours: float = Field(description="how long the mailed link works")


class Confirmation(BaseModel):
    token: str = Field(min_length=20, max_length=200)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _pending(session: AsyncSession, *, kind: str, email: str, data: dict, language: str, city_name: str,
                   contact_name: str, link_base: str, ttl: timedelta, correlation_id: str) -> None:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    pending = PendingRegistration(token_hash=_hash(token), email=email, data={"kind": kind, **data},
                                  created_at=now, expires_at=now + ttl)
    session.add(pending)
    await session.flush()
    await add_event(session, make_event(Subject.REGISTRATION_REQUESTED, RegistrationRequested(
        registration_id=pending.id, email=email, contact_name=contact_name, city_name=city_name, language=language,
        confirm_url=f"{link_base.rstrip('/')}/portal/register/confirm?token={token}", expires_at=pending.expires_at,
    ), correlation_id=correlation_id or pending.id))


async def _refuse(session: AsyncSession, *, email: str, language: str, city_name: str, reason: RegistrationRefusal,
                  correlation_id: str) -> None:
    await add_event(session, make_event(Subject.REGISTRATION_REFUSED, RegistrationRefused(
        email=email, language=language, city_name=city_name, reason=reason), correlation_id=correlation_id))


def check_eligible(rule: EligibilityRule, *, name: str, population: int, country: str) -> None:
    """The catalog's gate, at the door (and on every correction of the facts): a city the
    programme cannot certify is told so at once (a plain input error: it reveals nothing
    about other accounts)."""
    for reason in domain.eligibility(rule, city=name, population=population, country=country.upper()):
        raise IneligibleCity(reason.english(), field=reason.kind, reason=reason.kind, **reason.params)


async def request_city(session: AsyncSession, data: accounts.CityCreate, *, link_base: str, ttl: timedelta,
                       eligibility: EligibilityRule, limits: RegistrationThrottle, client: str,
                       correlation_id: str = "") -> ConfirmationSent:
    """Ask to register a city: a link to the contact, or a note that it cannot be done.
    Throttled per address and per client (RateLimited) before anything is done."""
    check_eligible(eligibility, name=data.name, population=data.population, country=data.country)
    state = accounts.check_place(data.country, data.state)  # a plain input error, nothing to reveal
    accounts.check_region(data.country, state)
    data = data.model_copy(update={"state": state})
    email = data.contact_email.lower()
    await limits.hit(email, client)
    password_hash = accounts.hash_password(data.password)  # always: the same cost either way
    if await accounts.email_taken(session, email):
        await _refuse(session, email=email, language=data.language, city_name=data.name, reason=RegistrationRefusal.ACCOUNT_EXISTS,
                      correlation_id=correlation_id)
    elif await accounts.city_taken(session, data.name, data.state, data.country):
        await _refuse(session, email=email, language=data.language, city_name=data.name, reason=RegistrationRefusal.CITY_REGISTERED,
                      correlation_id=correlation_id)
    else:
        form = data.model_dump(exclude={"password"})
        await _pending(session, kind=CITY, email=email, data={**form, "password_hash": password_hash},
                       language=data.language, city_name=data.name, contact_name=data.contact_name,
                       link_base=link_base, ttl=ttl, correlation_id=correlation_id)
    return ConfirmationSent(email=email, expires_in_hours=ttl.total_seconds() / 3600)


async def request_staff(session: AsyncSession, principal: Principal, city_id: str, data: accounts.StaffCreate, *,
                        link_base: str, ttl: timedelta, limits: RegistrationThrottle, client: str,
                        correlation_id: str = "") -> ConfirmationSent:
    """A city's staff member invites a colleague to the same city (never to another one);
    throttled per address and per client like a registration."""
    city = await accounts.get_city(session, principal, city_id)
    accounts.ensure_city_staff(principal)
    email = data.email.lower()
    await limits.hit(email, client)
    password_hash = accounts.hash_password(data.password)
    if await accounts.email_taken(session, email):
        await _refuse(session, email=email, language=data.language, city_name=city.name, reason=RegistrationRefusal.ACCOUNT_EXISTS,
                      correlation_id=correlation_id)
    else:
        await _pending(session, kind=STAFF, email=email,
                       data={"city_id": city.id, "name": data.name, "language": data.language,
                             "password_hash": password_hash},
                       language=data.language, city_name=city.name, contact_name=data.name,
                       link_base=link_base, ttl=ttl, correlation_id=correlation_id)
    return ConfirmationSent(email=email, expires_in_hours=ttl.total_seconds() / 3600)


async def confirm(session: AsyncSession, token: str) -> tuple[City, User]:
    """Create the account a link was mailed for; a link works once, until it expires."""
    now = utcnow()
    pending = await session.scalar(select(PendingRegistration).where(PendingRegistration.token_hash == _hash(token)))
    if pending is None or pending.confirmed_at is not None or pending.expires_at <= now:
        raise RegistrationLinkInvalid("This confirmation link is not valid or has expired; register again.")
    # Claim the link atomically: two clicks at once create one account.
    claimed = await session.execute(
        update(PendingRegistration).where(PendingRegistration.id == pending.id,
                                          PendingRegistration.confirmed_at.is_(None))
        .values(confirmed_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise RegistrationLinkInvalid("This confirmation link was already used.")
    data = dict(pending.data)
    kind, password_hash = data.pop("kind"), data.pop("password_hash")
    if kind == CITY:
        form = accounts.CityCreate.model_validate({**data, "password": "x" * 10})
        return await accounts.register_city(session, form, password_hash=password_hash)
    city = await session.get(City, data["city_id"])
    if city is None:
        raise RegistrationLinkInvalid("The city of this invitation no longer exists.")
    user = await accounts.create_user(session, email=pending.email, name=data["name"], password_hash=password_hash,
                                      role=accounts.Role.CITY, city_id=city.id, language=data["language"])
    return city, user

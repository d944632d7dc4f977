"""JWT issue/verify with the roles `city`, `auditor`, `operator`.

Tokens are issued by intake and verified by every service with the shared secret. The
token travels in `Authorization: Bearer` (API) or the `wwc_token` cookie (pages).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from shared.contracts.vocabulary import Role
from shared.errors import DomainError, Forbidden
from shared.infra.settings import AuthSettings

COOKIE = "wwc_token"


class NotAuthenticated(DomainError):
    code = "not_authenticated"


class TokenExpired(DomainError):
    code = "token_expired"


class InvalidToken(DomainError):
    code = "invalid_token"


class Principal(BaseModel):
    sub: str
    role: Role
    city_id: str | None = None
    name: str = ""

    def can_see_city(self, city_id: str) -> bool:
        return self.role != Role.CITY or self.city_id == city_id


def issue_token(principal: Principal, settings: AuthSettings, *, ttl: timedelta | None = None) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": principal.sub,
        "role": principal.role.value,
        "city_id": principal.city_id,
        "name": principal.name,
        "iss": settings.issuer,
        "iat": now,
        "exp": now + (ttl or timedelta(minutes=settings.token_ttl_minutes)),
    }
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def verify_token(token: str, settings: AuthSettings) -> Principal:
    try:
        claims = jwt.decode(
            token, settings.secret, algorithms=["HS256"], issuer=settings.issuer,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("Sign in again.") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("The token is not valid; sign in again.") from exc
    # A validly signed token can still carry claims we never issue: refuse, never crash.
    try:
        principal = Principal(sub=claims["sub"], role=claims.get("role"), city_id=claims.get("city_id"),
                              name=claims.get("name") or "")
    except (ValidationError, TypeError) as exc:
        raise InvalidToken("The token's claims are not valid; sign in again.") from exc
    if principal.role == Role.CITY and not principal.city_id:
        raise InvalidToken("A city token must name its city.")
    return principal


# The API's one security scheme (it appears in every service's OpenAPI document).
bearer = HTTPBearer(scheme_name="bearerAuth", bearerFormat="JWT", auto_error=False,
                    description="A token from intake's POST /api/v1/auth/token (or a city's confirmation).")


def current_principal(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The caller of the JSON API: bearer tokens only. The consoles' session cookie is never
    accepted here, so a page of another origin (other ports of the same host included)
    cannot make a signed-in browser write through the API."""
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("Send a bearer token (Authorization: Bearer ...).")
    return verify_token(credentials.credentials, request.app.state.auth_settings)


def optional_principal(request: Request) -> Principal | None:
    """Who is signed in to a console (its session cookie); pages check CSRF on every form."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return verify_token(token, request.app.state.auth_settings)
    except DomainError:
        return None


def require_roles(*roles: Role):
    def _dep(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"This needs the role {' or '.join(r.value for r in roles)}.")
        return principal

    _dep.roles = roles  # read by the OpenAPI document (who may call, and the 403)
    return _dep


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

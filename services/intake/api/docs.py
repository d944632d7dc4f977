"""How intake's operations document the errors they answer (OpenAPI `responses=`)."""

from __future__ import annotations

from services.intake.problems import ERRORS
from shared.errors import DomainError
from shared.web.problems import COMMON_ERRORS

_TABLE = COMMON_ERRORS | ERRORS


def problems(*errors: str | type[DomainError]) -> dict:
    """The problem+json responses of an operation, by code or error class."""
    return _TABLE.responses(*errors)


# Every operation that needs a signed-in user may answer these.
AUTH = ("not_authenticated", "token_expired", "invalid_token", "forbidden")

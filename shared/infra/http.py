"""Transitional: `ProblemError` for code not yet moved to domain errors (`shared.errors`).

It is a `DomainError` whose code is derived from an HTTP status, so it flows through the
same handlers and body shape. New code raises a `DomainError` subclass with its own code.
"""

from __future__ import annotations

from typing import Any

from shared.errors import DomainError

_CODES = {400: "malformed_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
          409: "conflict", 410: "gone", 413: "payload_too_large", 415: "unsupported_media_type",
          422: "invalid_input", 503: "unavailable"}


class ProblemError(DomainError):
    all_codes = tuple(_CODES.values())

    def __init__(self, status: int, title: str, detail: str = "", *, errors: list[dict[str, Any]] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or title, errors=errors, **extra)
        self.code = _CODES.get(status, "internal_error")  # type: ignore[misc]
        self.status, self.title = status, title


def field_error(field: str, reason: str, status: int = 422, title: str = "Invalid input") -> ProblemError:
    return ProblemError(status, title, f"{field}: {reason}", errors=[{"field": field, "reason": reason}])

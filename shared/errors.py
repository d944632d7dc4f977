"""Domain errors: what went wrong, said with a stable machine code and no HTTP in sight.

Use cases raise these; the HTTP edge maps each `code` to a status and a title (one table
per service, `shared.web.problems.ErrorTable`), and pages map it to a translated message.
Nothing may depend on the English `detail`, which is for API readers and logs only.

A subclass names its `code` once; `field`/`reason` point at the input that caused it
(problem+json `errors`), and keyword `params` travel to the body and to the translated
message (e.g. the version of a conflicting edit).
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"

    def __init__(self, detail: str = "", *, field: str | None = None, reason: str | None = None,
                 errors: list[dict[str, Any]] | None = None, **params: Any) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.errors: list[dict[str, Any]] = list(errors or [])
        if field is not None:
            self.errors.insert(0, {"field": field, "reason": reason or detail})
        self.params = params

    @property
    def field(self) -> str | None:
        return self.errors[0].get("field") if self.errors else None

    @classmethod
    def codes(cls) -> set[str]:
        """Every code this class and its subclasses can carry (for tables and tests)."""
        found = {c for c in getattr(cls, "all_codes", (cls.code,))}
        for sub in cls.__subclasses__():
            found |= sub.codes()
        return found


# --- errors every service can raise ---------------------------------------------------------


class NotFound(DomainError):
    """Absent, or not the caller's to see (another city's ids are reported as absent)."""

    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a rule; `errors` name each field."""

    code = "invalid_input"


class Unavailable(DomainError):
    """A dependency (database, workflow engine, object store) cannot be reached now."""

    code = "unavailable"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` (seconds) says when to try again."""

    code = "rate_limited"

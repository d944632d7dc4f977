"""Reporting's HTTP edge for errors: each reporting code with its status and title (the
common codes, e.g. `not_found`, come from `shared.web.problems.COMMON_ERRORS`)."""

from __future__ import annotations

from shared.errors import DomainError
from shared.web.problems import COMMON_ERRORS, ErrorTable

ERRORS = ErrorTable({
    "no_certified_report": (404, "No certified report has this code"),
    "report_not_certified": (409, "Report not certified"),
    "no_failed_step": (409, "No failed step to retry"),
})

_TABLE = COMMON_ERRORS | ERRORS


def problems(*errors: str | type[DomainError]) -> dict:
    """The problem+json responses of an operation, by code or error class."""
    return _TABLE.responses(*errors)

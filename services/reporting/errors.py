"""Reporting's domain errors. Each has a stable `code`; `services/reporting/problems.py` maps
codes to HTTP and the consoles' locales map them to messages. Generic ones (`NotFound`,
`Forbidden`, `InvalidInput`, `RateLimited`, `Unavailable`) come from `shared.errors`."""

from __future__ import annotations

from shared.errors import DomainError, Forbidden, InvalidInput, NotFound, RateLimited, Unavailable

__all__ = ["Forbidden", "InvalidInput", "NoCertifiedReport", "NoFailedStep", "NotCertified", "NotFound",
           "RateLimited", "Unavailable"]


class NoCertifiedReport(DomainError):
    """The one answer to every verification code that is not a certified report's: unknown,
    malformed, or asked about an applicant (who never has a code). It says nothing else."""

    code = "no_certified_report"


class NotCertified(DomainError):
    """Only a certified city's report can be put on the Honor Roll."""

    code = "report_not_certified"


class NoFailedStep(DomainError):
    """An operator asked to run a step again, but no step of that submission waits for it."""

    code = "no_failed_step"

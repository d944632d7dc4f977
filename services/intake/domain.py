"""Intake's rules that need no I/O: eligibility, completeness, versions of a draft edit,
evidence limits, clarification windows, withdrawal. Use cases load data, call these and
store the result; tests call them directly (tests/unit).

Each rule either answers a value or raises a domain error with a stable code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from certification.contract import WITHDRAWABLE_STAGES, Stage
from services.intake.errors import (
    ClarificationAnswered,
    ClarificationPastDue,
    FileRejected,
    InvalidCycle,
    InvalidVersion,
    NotFound,
    SubmissionIncomplete,
    VersionRequired,
)
from shared.catalog import Catalog
from shared.catalog.model import Eligibility as EligibilityRule
from shared.contracts.vocabulary import Answer

MB = 1024 * 1024
# Versions are stored in a 32-bit integer column on every backend.
MAX_VERSION = 2**31 - 1
CYCLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}")


class AssessmentState(StrEnum):
    DRAFT = "draft"          # the city edits it
    SUBMITTED = "submitted"  # frozen; the certification runs
    WITHDRAWN = "withdrawn"  # the city withdrew the submission


def check_cycle(cycle: str) -> str:
    if not CYCLE.fullmatch(cycle):
        raise InvalidCycle(f"cycle: not a cycle name ({cycle[:40]!r})", field="cycle",
                           reason="letters, digits, '.', '_' or '-', at most 16")
    return cycle


def check_open_cycle(cycle: str, catalog: Catalog) -> str:
    """A cycle cities may write to: one of the catalog's open cycles (closed vocabulary)."""
    check_cycle(cycle)
    if cycle not in catalog.cycles:
        raise InvalidCycle(f"cycle: {cycle!r} is not an open cycle", field="cycle",
                           reason=f"not an open cycle; open: {', '.join(catalog.cycles) or 'none'}")
    return cycle


# --- eligibility ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ineligibility:
    """One reason a city may not go on: `kind` is population or country."""

    kind: str
    params: dict = field(default_factory=dict)

    def english(self) -> str:
        if self.kind == "population":
            return (f"Cities need at least {self.params['minimum']:,} residents; "
                    f"{self.params['city']} has {self.params['population']:,}.")
        return (f"The Assessment is open to cities in the program's countries of North, Central and South "
                f"America and the Caribbean; {self.params['city']} is in {self.params['country']}, which is "
                f"not among them.")


def eligibility(rule: EligibilityRule, *, city: str, population: int, country: str) -> list[Ineligibility]:
    """The catalog's gate: at least the minimum population and a country on its list.
    An empty list means eligible."""
    reasons = []
    if population < rule.min_population:
        reasons.append(Ineligibility("population", {"minimum": rule.min_population, "city": city,
                                                    "population": population}))
    if country.upper() not in rule.countries:
        reasons.append(Ineligibility("country", {"city": city, "country": country.upper()}))
    return reasons


# --- completeness -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    """What stops a submission: a criterion not answered, or a YES without evidence."""

    criterion_id: str
    area: str
    kind: str  # not_answered | needs_evidence

    def problem(self) -> dict:
        if self.kind == "needs_evidence":
            return {"field": f"responses.{self.criterion_id}.evidence",
                    "reason": "a YES needs evidence: upload a file or add a link",
                    "criterion_id": self.criterion_id, "area": self.area, "kind": self.kind}
        return {"field": f"responses.{self.criterion_id}", "reason": "not answered",
                "criterion_id": self.criterion_id, "area": self.area, "kind": self.kind}


def missing_items(catalog: Catalog, answers: Mapping[str, Answer | str | None],
                  evidence_count: Mapping[str, int]) -> list[Missing]:
    """Every criterion answered; every YES with evidence where the catalog asks for it."""
    out = []
    for crit in catalog.criteria:
        answer = answers.get(crit.id)
        if not answer:
            out.append(Missing(crit.id, crit.area, "not_answered"))
        elif answer == Answer.YES and crit.evidence_required_for_yes and not evidence_count.get(crit.id):
            out.append(Missing(crit.id, crit.area, "needs_evidence"))
    return out


def ensure_complete(missing: list[Missing]) -> None:
    if missing:
        raise SubmissionIncomplete(f"{len(missing)} item(s) must be completed before submitting.",
                                   errors=[m.problem() for m in missing])


# --- draft edits ------------------------------------------------------------------------------


def parse_version(value: int | str | None, *, source: str = "version") -> int | None:
    """The version an editor read, from the body (`version`) or `If-Match: "3"` (also W/"3").
    None when not sent; a negative, oversized or unreadable one is refused."""
    if value is None:
        return None
    if isinstance(value, str):
        raw = value.strip().removeprefix("W/").strip('"')
        if not re.fullmatch(r"[0-9]{1,12}", raw):
            raise InvalidVersion(f'{source} must carry the version you read, e.g. "3"', field=source,
                                 reason="not a version")
        value = int(raw)
    if not 0 <= value <= MAX_VERSION:
        raise InvalidVersion(f"{source} must be between 0 and {MAX_VERSION}", field=source,
                             reason=f"between 0 and {MAX_VERSION}")
    return value


def required_version(body: int | None, if_match: str | None) -> int:
    """A save must name the version it read (0 for a criterion never saved)."""
    version = body if body is not None else parse_version(if_match, source="If-Match")
    if version is None:
        raise VersionRequired("Send the version you read (`version` in the body or If-Match); 0 for a new "
                              "response.", field="version", reason="required: the version you read")
    return version


# --- evidence limits --------------------------------------------------------------------------


def mb(n: float) -> str:
    value = n / MB
    return f"{value:.3g} MB" if value < 100 else f"{value:.0f} MB"


def check_file_size(size: int, limit: int) -> None:
    if size > limit:
        raise FileRejected("too_large", f"the file is larger than the limit of {mb(limit)} per file",
                           limit_mb=f"{limit / MB:g}")


def check_quota(used: int, size: int, limit: int) -> None:
    """The files of one submission stay within its limit."""
    if used + size > limit:
        raise FileRejected(
            "quota", f"this file ({mb(size)}) would take the assessment's evidence to {mb(used + size)}; "
                     f"the limit is {mb(limit)} per submission (remove files or add links instead)",
            limit_mb=f"{limit / MB:g}")


# --- clarification windows --------------------------------------------------------------------


class ClarificationState(StrEnum):
    OPEN = "open"          # may be answered
    OVERDUE = "overdue"    # past its due date; the workflow closes it at once
    ANSWERED = "answered"
    EXPIRED = "expired"    # closed unanswered


def clarification_state(*, due_at: datetime, now: datetime, answered: bool, expired: bool) -> ClarificationState:
    if answered:
        return ClarificationState.ANSWERED
    if expired:
        return ClarificationState.EXPIRED
    return ClarificationState.OVERDUE if due_at <= now else ClarificationState.OPEN


def ensure_answerable(request_id: str, *, due_at: datetime | None, now: datetime, answered: bool,
                      expired: bool) -> None:
    """A clarification request may be answered once, before its due date."""
    if answered:
        raise ClarificationAnswered(f"The clarification request {request_id} was already answered.")
    if expired:
        raise ClarificationPastDue(f"The clarification request {request_id} passed its due date and is "
                                   f"closed; it can no longer be answered.")
    if due_at is None:
        raise NotFound(f"no open clarification request {request_id}")
    if due_at <= now:
        raise ClarificationPastDue(f"The clarification request {request_id} was due at "
                                   f"{due_at:%Y-%m-%d %H:%M} UTC; it can no longer be answered.",
                                   due_at=due_at.isoformat())


# --- withdrawal -------------------------------------------------------------------------------


def can_withdraw(stage: Stage) -> bool:
    return stage in WITHDRAWABLE_STAGES

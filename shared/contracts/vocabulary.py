"""Small facts every service spells the same way: one enum each, in one place.

(Workflow stages and which of them a city may withdraw from live with the workflow
contract in `certification.contract`; intake's own assessment states in
`services.intake.domain`.)"""

from __future__ import annotations

from enum import StrEnum


class Answer(StrEnum):
    """A response to a criterion, as the city gives it and as an auditor confirms it."""

    YES = "YES"
    IN_PROGRESS = "IN_PROGRESS"
    NO = "NO"


class ReviewMode(StrEnum):
    """How the review step of a certification runs."""

    # Audit confirms the responses as submitted: benchmarks and tests only.
    AUTO = "auto"
    # An auditor reviews the case; the workflow waits for the review_completed signal.
    AUDITOR = "auditor"


class EvidenceKind(StrEnum):
    FILE = "file"
    LINK = "link"


class DebriefEnding(StrEnum):
    """How the debrief phase of a certification ended."""

    HELD = "held"
    NO_SHOW = "no_show"
    DECLINED = "declined"
    # Nobody booked a call before the offer window closed (set by the workflow only).
    EXPIRED = "expired"


class WaitingFor(StrEnum):
    """Who or what a certification waits for (the workflow's status and its
    `status.changed` events); consoles translate these."""

    EVIDENCE_CHECK = "evidence check"
    AUDITOR = "auditor"
    CITY = "city"
    SCORING = "scoring"
    REPORT = "report"
    CITY_BOOKING = "city (booking)"
    DEBRIEF_CALL = "debrief call"
    CALL_OUTCOME = "auditor (call outcome)"
    NOTHING = ""

    @staticmethod
    def failed_step(step: str) -> str:
        """An operator, to retry a step that failed on bad data."""
        return f"operator (failed step {step})"

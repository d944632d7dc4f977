"""The words services exchange: one enum each, in one place, so every contract field that
carries one is typed and the AsyncAPI document lists its allowed values.

(Which stages a city may withdraw from lives with the workflow contract in
`certification.contract`; a service's own states, such as intake's assessment states or
notify's offer, slot and booking states, live in that service's domain module.)"""

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


class Role(StrEnum):
    """Who an account belongs to: a city's staff, an auditor or an operator."""

    CITY = "city"
    AUDITOR = "auditor"
    OPERATOR = "operator"


class Stage(StrEnum):
    """The stages of a certification, in order (the workflow's status and its
    `status.changed` events)."""

    SUBMITTED = "submitted"
    EVIDENCE_CHECK = "evidence_check"
    IN_REVIEW = "in_review"
    CLARIFICATION = "clarification"
    SCORING = "scoring"
    REPORTING = "reporting"
    DEBRIEF = "debrief"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    # After completion, within the programme's appeal window: the city appealed audited
    # changes; independent auditors decide them (four eyes); the certification completes
    # again, with a reissued report when a finding is overturned.
    APPEAL = "appeal"


class AppealOutcome(StrEnum):
    """An appealed criterion's decision: the audited finding stands, or it is overturned."""

    UPHELD = "upheld"
    OVERTURNED = "overturned"


class AppealStatus(StrEnum):
    """Where an appeal is: its criteria being decided, every one decided and waiting for a
    second auditor's sign-off, or signed off."""

    OPEN = "open"
    SIGNOFF = "signoff"
    DECIDED = "decided"


class ReviewReminderKind(StrEnum):
    """Which reminder about a review's due date the workflow asks audit to send."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class CallReminderKind(StrEnum):
    """How long before a booked debrief call its reminder goes out."""

    DAY = "day"
    HOUR = "hour"


class RoundEnding(StrEnum):
    """How a clarification round ended."""

    ANSWERED = "answered"
    EXPIRED = "expired"


class RegistrationRefusal(StrEnum):
    """Why a registration could not be done (told only to the address's owner)."""

    ACCOUNT_EXISTS = "account_exists"
    CITY_REGISTERED = "city_registered"


class ReplayStatus(StrEnum):
    """What came of an operator's replay of a parked message."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"  # the consumer had handled it already
    ALREADY_REPLAYED = "already_replayed"
    FAILED = "failed"


class WaitingFor(StrEnum):
    """Who or what a certification waits for (the workflow's status and its
    `status.changed` events); consoles translate these."""

    EVIDENCE_CHECK = "evidence check"
    AUDITOR = "auditor"
    # A second auditor, to approve or return the review (audit's sign-off: the workflow
    # itself only knows "auditor"; reporting's pipeline tells them apart from audit's events).
    SIGNOFF = "second auditor (sign-off)"
    CITY = "city"
    SCORING = "scoring"
    REPORT = "report"
    CITY_BOOKING = "city (booking)"
    DEBRIEF_CALL = "debrief call"
    CALL_OUTCOME = "auditor (call outcome)"
    # An operator, to correct the cause of a failed step and retry it (which step travels
    # beside it: `StepFailed.step`, `CertificationStatus.failing_step`).
    OPERATOR = "operator"
    NOTHING = ""

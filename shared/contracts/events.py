"""The event envelope and the catalog of subjects with their payload models.

Subject pattern: `wwc.<service>.<entity>.<past-tense-verb>`. The envelope's `event_id`
is sent as `Nats-Msg-Id`, so JetStream drops a republished duplicate, and consumers use
it again to stay idempotent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

STREAM_SUBJECTS = ["wwc.>"]


class Envelope(BaseModel):
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    submission_id: str | None = None
    city_id: str | None = None
    correlation_id: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)

    def payload_as(self, model: type[BaseModel]) -> Any:
        return model.model_validate(self.payload)


# --- payloads -------------------------------------------------------------------------


class RegistrationRequested(BaseModel):
    """Mail the contact a link that confirms the address and creates the city's account."""

    registration_id: str
    email: str
    contact_name: str
    city_name: str
    language: str = "en"
    confirm_url: str
    expires_at: datetime


class RegistrationRefused(BaseModel):
    """Someone asked to register with this address, but it cannot be done: the address has
    an account already, or the city is registered. Only the address's owner is told (by
    mail); the API answers every registration request the same way."""

    email: str
    language: str = "en"
    city_name: str
    reason: str  # account_exists | city_registered


class SubmissionSubmitted(BaseModel):
    submission_id: str
    city_id: str
    cycle: str
    catalog_version: str
    answered: int
    evidence_count: int
    city_name: str = ""
    contact_email: str | None = None


class SubmissionWithdrawn(BaseModel):
    submission_id: str
    city_id: str
    reason: str = ""


class ClarificationAnswered(BaseModel):
    submission_id: str
    request_id: str
    answered_at: datetime


class ReviewCaseOpened(BaseModel):
    submission_id: str
    case_id: str


class ReviewCompleted(BaseModel):
    submission_id: str
    case_id: str
    corrections: int


class ScoreComputed(BaseModel):
    submission_id: str
    city_id: str
    cycle: str
    catalog_version: str
    region: str | None = None
    population_band: str | None = None
    met: int
    total: int
    percent: int
    tier: str | None = None
    area_percent: dict[str, int] = Field(default_factory=dict)
    met_criteria: list[str] = Field(default_factory=list)
    # When the score was stored: decides which of a city's scores is its latest.
    computed_at: datetime | None = None


class ReportReady(BaseModel):
    submission_id: str
    report_id: str
    object_key: str | None = None


class DebriefOffered(BaseModel):
    submission_id: str
    offer_id: str
    email: str | None = None


class StatusChanged(BaseModel):
    submission_id: str
    status: str
    previous: str | None = None
    detail: str = ""


class Subject:
    REGISTRATION_REQUESTED = "wwc.intake.registration.requested"
    REGISTRATION_REFUSED = "wwc.intake.registration.refused"
    SUBMISSION_SUBMITTED = "wwc.intake.submission.submitted"
    SUBMISSION_WITHDRAWN = "wwc.intake.submission.withdrawn"
    CLARIFICATION_ANSWERED = "wwc.intake.clarification.answered"
    REVIEW_CASE_OPENED = "wwc.audit.case.opened"
    REVIEW_COMPLETED = "wwc.audit.review.completed"
    SCORE_COMPUTED = "wwc.scoring.score.computed"
    REPORT_READY = "wwc.reporting.report.ready"
    DEBRIEF_OFFERED = "wwc.notify.debrief.offered"
    STATUS_CHANGED = "wwc.certification.status.changed"


# One place that says which payload model each subject carries (and the AsyncAPI doc).
PAYLOADS: dict[str, type[BaseModel]] = {
    Subject.REGISTRATION_REQUESTED: RegistrationRequested,
    Subject.REGISTRATION_REFUSED: RegistrationRefused,
    Subject.SUBMISSION_SUBMITTED: SubmissionSubmitted,
    Subject.SUBMISSION_WITHDRAWN: SubmissionWithdrawn,
    Subject.CLARIFICATION_ANSWERED: ClarificationAnswered,
    Subject.REVIEW_CASE_OPENED: ReviewCaseOpened,
    Subject.REVIEW_COMPLETED: ReviewCompleted,
    Subject.SCORE_COMPUTED: ScoreComputed,
    Subject.REPORT_READY: ReportReady,
    Subject.DEBRIEF_OFFERED: DebriefOffered,
    Subject.STATUS_CHANGED: StatusChanged,
}


def make_event(
    subject: str,
    payload: BaseModel,
    *,
    submission_id: str | None = None,
    city_id: str | None = None,
    correlation_id: str = "",
) -> Envelope:
    expected = PAYLOADS.get(subject)
    if expected is None:
        raise ValueError(f"unknown subject {subject!r}")
    if not isinstance(payload, expected):
        raise TypeError(f"{subject} carries {expected.__name__}, not {type(payload).__name__}")
    return Envelope(
        type=subject,
        submission_id=submission_id,
        city_id=city_id,
        correlation_id=correlation_id,
        payload=payload.model_dump(mode="json"),
    )

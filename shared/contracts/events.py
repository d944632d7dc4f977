"""The event envelope and the catalog of subjects with their payload models.

Subject pattern: `wwc.<service>.<entity>.<past-tense-verb>`. The envelope's `event_id`
is sent as `Nats-Msg-Id`, so JetStream drops a republished duplicate, and consumers use
it again to stay idempotent. Payload models live in `shared.contracts.payloads.<producer>`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.payloads.audit import (
    AppealCaseOpened,
    AppealCriterionDecided,
    AppealDueSoon,
    AppealOverdue,
    AppealResolved,
    AuditedChange,
    CaseAssigned,
    CaseOpened,
    CaseReleased,
    ClarificationClosed,
    ClarificationRequested,
    ReviewCompleted,
    ReviewDueSoon,
    ReviewOverdue,
    SignoffRequested,
    SignoffReturned,
    TrailCheckpointed,
)
from shared.contracts.payloads.certification import (
    MessageParked,
    MessageReplayed,
    ReplayRequested,
    StatusChanged,
    StepFailed,
    StepRetried,
)
from shared.contracts.payloads.intake import (
    AppealedCriterionSent,
    AppealSubmitted,
    CityFactsChanged,
    CityProfile,
    ClarificationAnswered,
    CriterionAnswerSent,
    RegistrationRefused,
    RegistrationRequested,
    SubmissionSubmitted,
    SubmissionWithdrawn,
    UserRegistered,
)
from shared.contracts.payloads.notify import (
    DebriefBooked,
    DebriefCancelled,
    DebriefCompleted,
    DebriefOffered,
    DebriefRescheduled,
    MailFailed,
    MailRetried,
)
from shared.contracts.payloads.reporting import ReportReady
from shared.contracts.payloads.scoring import ScoreComputed

STREAM_SUBJECTS = ["wwc.>"]
# Every service parks and replays its own messages.
SERVICES = ("intake", "audit", "scoring", "reporting", "notify")

__all__ = [
    "AppealCaseOpened", "AppealCriterionDecided", "AppealDueSoon", "AppealOverdue", "AppealResolved", "AppealedCriterionSent", "AppealSubmitted",
    "AuditedChange", "MessageReplayed", "ReplayRequested", "CaseAssigned", "CaseOpened", "CaseReleased", "CityFactsChanged", "CityProfile", "ClarificationAnswered",
    "ClarificationClosed", "ClarificationRequested", "CriterionAnswerSent", "DebriefBooked", "DebriefCancelled", "DebriefCompleted",
    "DebriefOffered", "DebriefRescheduled", "MailFailed", "MailRetried", "Envelope", "MessageParked", "PAYLOADS", "RegistrationRefused",
    "RegistrationRequested", "ReportReady", "ReviewCompleted", "ReviewDueSoon",
    "ReviewOverdue", "ScoreComputed", "SignoffRequested", "SignoffReturned", "StatusChanged", "StepFailed", "StepRetried", "Subject", "TrailCheckpointed",
    "SubmissionSubmitted", "SubmissionWithdrawn", "UserRegistered", "make_event",
]


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


class Subject:
    REGISTRATION_REQUESTED = "wwc.intake.registration.requested"
    REGISTRATION_REFUSED = "wwc.intake.registration.refused"
    USER_REGISTERED = "wwc.intake.user.registered"
    USER_UPDATED = "wwc.intake.user.updated"
    CITY_REGISTERED = "wwc.intake.city.registered"
    CITY_UPDATED = "wwc.intake.city.updated"
    CITY_FACTS_CHANGED = "wwc.intake.city.facts_changed"
    SUBMISSION_SUBMITTED = "wwc.intake.submission.submitted"
    SUBMISSION_WITHDRAWN = "wwc.intake.submission.withdrawn"
    CLARIFICATION_ANSWERED = "wwc.intake.clarification.answered"
    APPEAL_FILED = "wwc.intake.appeal.filed"
    REVIEW_CASE_OPENED = "wwc.audit.case.opened"
    CASE_ASSIGNED = "wwc.audit.case.assigned"
    CASE_RELEASED = "wwc.audit.case.released"
    CLARIFICATION_REQUESTED = "wwc.audit.clarification.requested"
    CLARIFICATION_CLOSED = "wwc.audit.clarification.closed"
    REVIEW_DUE_SOON = "wwc.audit.review.due_soon"
    REVIEW_OVERDUE = "wwc.audit.review.overdue"
    SIGNOFF_REQUESTED = "wwc.audit.signoff.requested"
    SIGNOFF_RETURNED = "wwc.audit.signoff.returned"
    REVIEW_COMPLETED = "wwc.audit.review.completed"
    TRAIL_CHECKPOINTED = "wwc.audit.trail.checkpointed"
    APPEAL_OPENED = "wwc.audit.appeal.opened"
    APPEAL_DUE_SOON = "wwc.audit.appeal.due_soon"
    APPEAL_OVERDUE = "wwc.audit.appeal.overdue"
    APPEAL_DECIDED = "wwc.audit.appeal.decided"
    SCORE_COMPUTED = "wwc.scoring.score.computed"
    REPORT_READY = "wwc.reporting.report.ready"
    REPLAY_REQUESTED = "wwc.reporting.replay.requested"
    DEBRIEF_OFFERED = "wwc.notify.debrief.offered"
    DEBRIEF_BOOKED = "wwc.notify.debrief.booked"
    DEBRIEF_RESCHEDULED = "wwc.notify.debrief.rescheduled"
    DEBRIEF_CANCELLED = "wwc.notify.debrief.cancelled"
    DEBRIEF_COMPLETED = "wwc.notify.debrief.completed"
    MAIL_FAILED = "wwc.notify.mail.failed"
    MAIL_RETRIED = "wwc.notify.mail.retried"
    STATUS_CHANGED = "wwc.certification.status.changed"
    STEP_FAILED = "wwc.certification.step.failed"
    STEP_RETRIED = "wwc.certification.step.retried"

    @staticmethod
    def every(service: str = "*", entity: str = "*") -> str:
        """A subscription filter: every subject of a service's entity (`wwc.audit.case.*`),
        or every subject (`wwc.>`)."""
        return "wwc.>" if service == entity == "*" else f"wwc.{service}.{entity}.*"

    @staticmethod
    def message_parked(service: str) -> str:
        """`wwc.<service>.message.parked`: one subject per service that parks messages."""
        return f"wwc.{service}.message.parked"

    @staticmethod
    def message_replayed(service: str) -> str:
        """`wwc.<service>.message.replayed`: the answer to an operator's replay request."""
        return f"wwc.{service}.message.replayed"


# One place that says which payload model each subject carries (and the AsyncAPI doc).
PAYLOADS: dict[str, type[BaseModel]] = {
    Subject.REGISTRATION_REQUESTED: RegistrationRequested,
    Subject.REGISTRATION_REFUSED: RegistrationRefused,
    Subject.USER_REGISTERED: UserRegistered,
    Subject.USER_UPDATED: UserRegistered,
    Subject.CITY_REGISTERED: CityProfile,
    Subject.CITY_UPDATED: CityProfile,
    Subject.CITY_FACTS_CHANGED: CityFactsChanged,
    Subject.SUBMISSION_SUBMITTED: SubmissionSubmitted,
    Subject.SUBMISSION_WITHDRAWN: SubmissionWithdrawn,
    Subject.CLARIFICATION_ANSWERED: ClarificationAnswered,
    Subject.APPEAL_FILED: AppealSubmitted,
    Subject.REVIEW_CASE_OPENED: CaseOpened,
    Subject.CASE_ASSIGNED: CaseAssigned,
    Subject.CASE_RELEASED: CaseReleased,
    Subject.CLARIFICATION_REQUESTED: ClarificationRequested,
    Subject.CLARIFICATION_CLOSED: ClarificationClosed,
    Subject.REVIEW_DUE_SOON: ReviewDueSoon,
    Subject.REVIEW_OVERDUE: ReviewOverdue,
    Subject.SIGNOFF_REQUESTED: SignoffRequested,
    Subject.SIGNOFF_RETURNED: SignoffReturned,
    Subject.REVIEW_COMPLETED: ReviewCompleted,
    Subject.TRAIL_CHECKPOINTED: TrailCheckpointed,
    Subject.APPEAL_OPENED: AppealCaseOpened,
    Subject.APPEAL_DUE_SOON: AppealDueSoon,
    Subject.APPEAL_OVERDUE: AppealOverdue,
    Subject.APPEAL_DECIDED: AppealResolved,
    Subject.SCORE_COMPUTED: ScoreComputed,
    Subject.REPORT_READY: ReportReady,
    Subject.REPLAY_REQUESTED: ReplayRequested,
    Subject.DEBRIEF_OFFERED: DebriefOffered,
    Subject.DEBRIEF_BOOKED: DebriefBooked,
    Subject.DEBRIEF_RESCHEDULED: DebriefRescheduled,
    Subject.DEBRIEF_CANCELLED: DebriefCancelled,
    Subject.DEBRIEF_COMPLETED: DebriefCompleted,
    Subject.MAIL_FAILED: MailFailed,
    Subject.MAIL_RETRIED: MailRetried,
    Subject.STATUS_CHANGED: StatusChanged,
    Subject.STEP_FAILED: StepFailed,
    Subject.STEP_RETRIED: StepRetried,
    **{Subject.message_parked(s): MessageParked for s in SERVICES},
    **{Subject.message_replayed(s): MessageReplayed for s in SERVICES},
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
    if type(payload) is not expected:
        raise TypeError(f"{subject} carries {expected.__name__}, not {type(payload).__name__}")
    return Envelope(
        type=subject,
        submission_id=submission_id,
        city_id=city_id,
        correlation_id=correlation_id,
        payload=payload.model_dump(mode="json"),
    )

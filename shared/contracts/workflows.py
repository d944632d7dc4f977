"""Temporal contracts: workflow and activity names, task queues, signals, queries, I/O.

Workflows call activities by name and task queue only, so no service imports another
service's code. Payloads are pydantic models (pydantic_data_converter); evidence travels
as object keys, never bytes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from shared.contracts.submission import FrozenSubmission
from shared.contracts.vocabulary import Answer, ReviewMode


class TaskQueue(StrEnum):
    INTAKE = "intake"
    AUDIT = "audit"
    SCORING = "scoring"
    REPORTING = "reporting"
    NOTIFY = "notify"


CERTIFICATION_WORKFLOW = "CertificationWorkflow"


def certification_workflow_id(submission_id: str) -> str:
    return f"certification-{submission_id}"


class Activity:
    """Activity names: `<owning service>.<verb>`; each runs on its owner's task queue."""

    INTAKE_RECORD_STATUS = "intake.record_status"
    INTAKE_CHECK_EVIDENCE = "intake.check_evidence"
    AUDIT_COMPLETE_REVIEW = "audit.complete_review"
    SCORING_SCORE_SUBMISSION = "scoring.score_submission"
    REPORTING_RENDER_REPORT = "reporting.render_report"
    NOTIFY_OFFER_DEBRIEF = "notify.offer_debrief"


class Signal:
    WITHDRAW = "withdraw"
    REQUEST_CLARIFICATION = "request_clarification"
    CLARIFICATION_ANSWERED = "clarification_answered"
    REVIEW_COMPLETED = "review_completed"


class Query:
    STATUS = "status"


class Stage(StrEnum):
    SUBMITTED = "submitted"
    EVIDENCE_CHECK = "evidence_check"
    IN_REVIEW = "in_review"
    CLARIFICATION = "clarification"
    SCORING = "scoring"
    REPORTING = "reporting"
    DEBRIEF = "debrief"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


# A city may withdraw until scoring starts; the workflow refuses a withdrawal afterwards.
WITHDRAWABLE_STAGES: frozenset[Stage] = frozenset(
    {Stage.SUBMITTED, Stage.EVIDENCE_CHECK, Stage.IN_REVIEW, Stage.CLARIFICATION})


class Traced(BaseModel):
    """Every activity input carries these so logs are correlated across services."""

    submission_id: str
    correlation_id: str = ""


class CertificationInput(Traced):
    """What the workflow runs on: the frozen submission as the city submitted it."""

    submission: FrozenSubmission
    review_mode: ReviewMode = ReviewMode.AUTO
    # Lets parallel test runs share one Temporal server (see TemporalSettings).
    task_queue_prefix: str = ""

    @property
    def city_id(self) -> str:
        return self.submission.city.id

    @property
    def cycle(self) -> str:
        return self.submission.cycle

    @property
    def catalog_version(self) -> str:
        return self.submission.catalog_version


class StatusRecord(Traced):
    status: Stage
    previous: Stage | None = None
    detail: str = ""


class EvidenceCheck(Traced):
    evidence_keys: list[str]


class EvidenceCheckResult(BaseModel):
    checked: int
    missing: list[str] = Field(default_factory=list)


class ReviewRequest(Traced):
    """Audit's own copy of what the city submitted travels with the request."""

    submission: FrozenSubmission


class ReviewOutcome(BaseModel):
    case_id: str
    audited_responses: dict[str, Answer]
    corrections: int = 0


class ScoreRequest(Traced):
    city_id: str
    cycle: str
    catalog_version: str
    audited_responses: dict[str, Answer]
    region: str | None = None
    population_band: str | None = None


class ScoreOutcome(BaseModel):
    met: int
    total: int
    percent: int
    tier: str | None = None


class ReportRequest(Traced):
    city_id: str
    cycle: str
    catalog_version: str
    city_name: str = ""
    score: ScoreOutcome


class ReportOutcome(BaseModel):
    report_id: str
    object_key: str | None = None


class DebriefRequest(Traced):
    city_id: str
    contact_email: str | None = None
    city_name: str = ""
    tier: str | None = None


class DebriefOutcome(BaseModel):
    offer_id: str
    emailed: bool


class ClarificationRequest(BaseModel):
    request_id: str
    criteria: list[str]
    message: str
    # Timezone-aware: comparing a naive date with workflow.now() would fail the workflow.
    due_at: AwareDatetime
    requested_by: str = ""


class ClarificationAnswer(BaseModel):
    request_id: str
    answered_at: AwareDatetime


class Withdrawal(BaseModel):
    reason: str = ""


class StageEntry(BaseModel):
    stage: Stage
    at: datetime


class CertificationStatus(BaseModel):
    submission_id: str
    stage: Stage
    history: list[StageEntry]
    open_clarifications: list[ClarificationRequest] = Field(default_factory=list)
    answered_clarifications: list[str] = Field(default_factory=list)
    expired_clarifications: list[str] = Field(default_factory=list)
    score: ScoreOutcome | None = None
    report_id: str | None = None
    debrief_offer_id: str | None = None
    withdrawn_reason: str | None = None
    # Object keys of frozen evidence that the evidence check did not find in storage.
    missing_evidence: list[str] = Field(default_factory=list)

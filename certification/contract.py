"""Temporal contracts of the certification workflow: names, task queues, stages, its input,
the signals and updates it takes, and the status it answers. Its activities (I/O and
timeouts) are in `certification.activities`.

Payloads are pydantic models (pydantic_data_converter); evidence travels as object keys,
never bytes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from shared.contracts.submission import EvidenceItem, FrozenSubmission
from shared.contracts.vocabulary import AppealOutcome, Answer, DebriefEnding, ReviewMode, Stage, WaitingFor



class TaskQueue(StrEnum):
    INTAKE = "intake"
    AUDIT = "audit"
    SCORING = "scoring"
    REPORTING = "reporting"
    NOTIFY = "notify"


CERTIFICATION_WORKFLOW = "CertificationWorkflow"


def certification_workflow_id(submission_id: str) -> str:
    return f"certification-{submission_id}"


class Signal:
    REQUEST_CLARIFICATION = "request_clarification"   # audit: an auditor asks the city
    CLARIFICATION_ANSWERED = "clarification_answered"  # intake: the city answered
    REVIEW_COMPLETED = "review_completed"              # audit: the review was approved
    DEBRIEF_BOOKED = "debrief_booked"                  # notify: booked or moved
    DEBRIEF_CANCELLED = "debrief_cancelled"            # notify: the booking was cancelled
    DEBRIEF_COMPLETED = "debrief_completed"            # notify: held (outcome recorded) or declined
    CASE_HOLDER = "case_holder"                        # intake, from audit's events: who holds the case
    RETRY_STEP = "retry_step"                          # an operator: run the failed step again
    APPEAL_FILED = "appeal_filed"                      # intake: the city appealed audited changes
    APPEAL_DECIDED = "appeal_decided"                  # audit: the appeal was decided and signed off


class Update:
    WITHDRAW = "withdraw"  # the city withdraws: an immediate yes (accepted) or no (too late)


class Query:
    STATUS = "status"


class SearchAttributes:
    """What operators filter certifications by in the Temporal UI and through our API
    (`WwcStage = "in_review" AND WwcCycle = "2026"`). Registered by the dev server
    launcher (devtools.devstack) and by the compose stack's temporal-setup service."""

    CYCLE = SearchAttributeKey.for_keyword("WwcCycle")
    STAGE = SearchAttributeKey.for_keyword("WwcStage")
    CITY = SearchAttributeKey.for_keyword("WwcCity")
    REGION = SearchAttributeKey.for_keyword("WwcRegion")
    AUDITOR = SearchAttributeKey.for_keyword("WwcAuditor")
    DUE_AT = SearchAttributeKey.for_datetime("WwcDueAt")

    @classmethod
    def all(cls) -> list[SearchAttributeKey]:
        return [v for v in vars(cls).values() if isinstance(v, SearchAttributeKey)]


# A city may withdraw until scoring starts; the workflow refuses a withdrawal afterwards.
WITHDRAWABLE_STAGES: frozenset[Stage] = frozenset(
    {Stage.SUBMITTED, Stage.EVIDENCE_CHECK, Stage.IN_REVIEW, Stage.CLARIFICATION})


class CertificationInput(BaseModel):
    """What the workflow runs on: the frozen submission as the city submitted it."""

    submission_id: str
    correlation_id: str = ""
    submission: FrozenSubmission
    review_mode: ReviewMode = ReviewMode.AUDITOR
    # Lets parallel test runs share one Temporal server (see TemporalSettings).
    task_queue_prefix: str = ""
    # How long after completion the city may appeal (a programme setting, intake's
    # `WWC_APPEAL_WINDOW_DAYS`); 0: no appeals.
    appeal_window_days: int = 30

    @property
    def city_id(self) -> str:
        return self.submission.city.id

    @property
    def cycle(self) -> str:
        return self.submission.cycle

    @property
    def catalog_version(self) -> str:
        return self.submission.catalog_version


# --- signals and updates ----------------------------------------------------------------------


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
    by_name: str = ""  # who at the city withdrew (their display name): named wherever it is shown


class DebriefBooking(BaseModel):
    """The debrief call as booked now (a new `sequence` each time it moves)."""

    booking_id: str
    starts_at: AwareDatetime
    sequence: int = 0


class CaseHolder(BaseModel):
    """Who holds the review case now (None: back in the queue), as of `at` (the audit
    event's time: a late, older fact never overwrites a newer one)."""

    auditor_id: str | None = None
    at: AwareDatetime


class StepRetry(BaseModel):
    by: str = ""


class DebriefCancellation(BaseModel):
    booking_id: str


class DebriefResult(BaseModel):
    outcome: DebriefEnding  # held | no_show | declined (expired is the workflow's own)
    notes: str = ""


class AppealedCriterion(BaseModel):
    """One appealed criterion as the city filed it: its statement and any new evidence
    (stored by intake; files travel as object keys)."""

    criterion_id: str
    statement: str
    evidence: list[EvidenceItem] = Field(default_factory=list)


class AppealFiled(BaseModel):
    """The city appealed these audited changes (its statements and new evidence are kept by
    intake and travel to audit with `audit.open_appeal`). One appeal per certification."""

    appeal_id: str
    criteria: list[str]
    filed_at: AwareDatetime
    filed_by_name: str = ""
    # Each criterion's statement and new evidence (the workflow hands them to audit).
    statements: list[AppealedCriterion] = Field(default_factory=list)


class AppealDecision(BaseModel):
    """One appealed criterion, decided by an auditor who took no part in the review."""

    criterion_id: str
    outcome: AppealOutcome
    response: Answer  # the response that stands after the appeal (the audited one if upheld)
    reason_code: str = ""
    explanation: str = ""


class AppealDecided(BaseModel):
    """Audit: every appealed criterion decided, and signed off by a second independent auditor."""

    appeal_id: str
    decisions: list[AppealDecision]
    decided_by: str
    signed_off_by: str
    decided_at: AwareDatetime


# --- the status query -------------------------------------------------------------------------


class StageEntry(BaseModel):
    stage: Stage
    at: datetime


class ScoreSummary(BaseModel):
    met: int
    total: int
    percent: int
    tier: str | None = None


class CertificationStatus(BaseModel):
    submission_id: str
    stage: Stage
    history: list[StageEntry]
    # Who or what the submission waits for (auditor, city, scoring, ...), for people.
    waiting_for: WaitingFor = WaitingFor.NOTHING
    open_clarifications: list[ClarificationRequest] = Field(default_factory=list)
    answered_clarifications: list[str] = Field(default_factory=list)
    expired_clarifications: list[str] = Field(default_factory=list)
    review_case_id: str | None = None
    review_due_at: datetime | None = None
    score: ScoreSummary | None = None
    report_id: str | None = None
    report_url: str | None = None
    debrief_offer_id: str | None = None
    debrief_starts_at: datetime | None = None
    debrief_outcome: DebriefEnding | None = None
    withdrawn_reason: str | None = None
    # Object keys of frozen evidence that the evidence check did not find in storage.
    missing_evidence: list[str] = Field(default_factory=list)
    review_auditor_id: str | None = None
    # A step that failed on bad data and waits for an operator's retry.
    failing_step: str | None = None
    failure: str | None = None
    # Appeals: until when the city may appeal (None: not yet completed, or no appeals), the
    # appeal filed and its decision, and which version of the report is current.
    appeal_open_until: datetime | None = None
    appeal: AppealFiled | None = None
    appeal_decided: AppealDecided | None = None
    report_version: int = 1


def initial_search_attributes(inp: CertificationInput) -> TypedSearchAttributes:
    """Set when the workflow starts; the workflow keeps stage, auditor and due date current."""
    city = inp.submission.city
    pairs = [SearchAttributePair(SearchAttributes.CYCLE, inp.cycle),
             SearchAttributePair(SearchAttributes.STAGE, Stage.SUBMITTED.value),
             SearchAttributePair(SearchAttributes.CITY, city.name)]
    if city.region:
        pairs.append(SearchAttributePair(SearchAttributes.REGION, city.region))
    return TypedSearchAttributes(pairs)

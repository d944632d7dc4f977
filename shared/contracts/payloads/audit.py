"""Facts audit publishes: review cases, clarification rounds, SLA reminders, sign-off and
the completed review with every audited change."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.contracts.vocabulary import Answer, AppealStatus


class CaseOpened(BaseModel):
    submission_id: str
    case_id: str
    city_id: str | None = None
    city_name: str = ""
    cycle: str = ""
    due_at: datetime | None = None


class CaseAssigned(BaseModel):
    """A case has a holder: by claim, or assigned by someone else (`assigned_by`)."""

    submission_id: str
    case_id: str
    auditor_id: str
    assigned_by: str
    due_at: datetime | None = None


class CaseReleased(BaseModel):
    """A holder handed a case back to the queue."""

    submission_id: str
    case_id: str
    auditor_id: str
    reason: str = ""


class ClarificationRequested(BaseModel):
    submission_id: str
    case_id: str
    request_id: str
    criteria: list[str]
    message: str
    due_at: datetime
    requested_by: str


class ClarificationClosed(BaseModel):
    """A round ended without an answer at its due date: the review goes on with what
    exists (an answered round is the city's own `wwc.intake.clarification.answered`)."""

    submission_id: str
    case_id: str
    request_id: str


class ReviewDueSoon(BaseModel):
    """The review's due date is near (a reminder to its holder)."""

    submission_id: str
    case_id: str
    auditor_id: str | None = None
    due_at: datetime


class ReviewOverdue(BaseModel):
    """The review's due date has passed (an escalation to operators)."""

    submission_id: str
    case_id: str
    auditor_id: str | None = None
    due_at: datetime


class SignoffRequested(BaseModel):
    submission_id: str
    case_id: str
    reviewer_id: str


class SignoffReturned(BaseModel):
    """The second auditor sent the case back to its reviewer with comments."""

    submission_id: str
    case_id: str
    reviewer_id: str
    returned_by: str
    comments: str


class AuditedChange(BaseModel):
    """A response the audit changed, with the reason the city reads."""

    criterion: str
    from_response: Answer
    to_response: Answer
    reason_code: str
    explanation: str
    what_would_satisfy: str = ""


class ReviewCompleted(BaseModel):
    """An approved review: the final responses and every change, as signed off."""

    submission_id: str
    case_id: str
    corrections: int
    city_id: str | None = None
    final_responses: dict[str, Answer] = Field(default_factory=dict)
    changes: list[AuditedChange] = Field(default_factory=list)
    reviewer_id: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    decisions_hash: str | None = None
    # The case trail's last hash once approved (its `signoff.approved` record): published
    # outside audit's database, it anchors the chain against a rewrite of the whole trail.
    trail_head: str | None = None


class TrailCheckpointed(BaseModel):
    """A case trail's head, published outside audit's database after every record: kept in
    reporting's ledger (and printed in the report's appendix), it lets `wwc audit
    verify-trail --checkpoints` catch a trail whose tail was deleted and head rolled back."""

    submission_id: str
    case_id: str
    chain: str
    seq: int
    head: str
    key_id: str
    at: datetime


class AppealCriterionDecided(BaseModel):
    """One appealed criterion as decided: the audited finding stands (`upheld`) or not."""

    criterion_id: str
    outcome: str  # upheld | overturned (shared.contracts.vocabulary.AppealOutcome)
    before: Answer  # the audited response the city appealed
    response: Answer  # the response that stands
    reason_code: str = ""
    explanation: str = ""


class AppealCaseOpened(BaseModel):
    """Audit opened its case for an appeal (`wwc.audit.appeal.opened`): who may decide it is
    settled, and by when (the operators' Appeals page shows the due date)."""

    submission_id: str
    appeal_id: str
    city_id: str | None = None
    criteria: list[str] = Field(default_factory=list)
    opened_at: datetime
    due_at: datetime


class AppealDueSoon(BaseModel):
    """An open appeal's decision is due soon (`wwc.audit.appeal.due_soon`), once per due
    date: a reminder to the auditors deciding it (`auditor_ids`: who decided a criterion so
    far); when nobody has (or it waits for a sign-off), to operators."""

    submission_id: str
    appeal_id: str
    case_id: str | None = None
    city_id: str | None = None
    city_name: str = ""
    status: AppealStatus = AppealStatus.OPEN  # signoff: every criterion decided, waiting for a second auditor
    auditor_ids: list[str] = Field(default_factory=list)
    due_at: datetime


class AppealOverdue(AppealDueSoon):
    """An appeal is not signed off by its due date (`wwc.audit.appeal.overdue`), once per
    due date: an escalation to operators, naming who decided so far. Its fields are the
    reminder's."""


class AppealResolved(BaseModel):
    """An appeal decided by an auditor who took no part in the review and signed off by a
    second one (`wwc.audit.appeal.decided`); the workflow re-scores if any is overturned."""

    submission_id: str
    appeal_id: str
    case_id: str | None = None
    city_id: str | None = None
    decisions: list[AppealCriterionDecided] = Field(default_factory=list)
    decided_by: str
    signed_off_by: str
    decided_at: datetime

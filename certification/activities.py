"""The certification workflow's activities: their inputs and results, and one table that
says for each its name, task queue, result type, timeouts and retry policy.

Workflows call activities by name and task queue only (no service imports another's
code); taking both from one `ActivitySpec` means a name can never be paired with the
wrong queue or result type, and every call has timeouts that fit its work. An activity
that meets data it can never process raises `BadData` (non-retryable): the step fails
visibly instead of retrying forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, Field
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from shared.contracts.payloads.audit import AuditedChange
from shared.contracts.submission import EvidenceItem, FrozenSubmission
from shared.contracts.vocabulary import (
    Answer,
    CallReminderKind,
    AppealOutcome,
    DebriefEnding,
    ReviewReminderKind,
    RoundEnding,
    WaitingFor,
)
from certification.contract import Stage, TaskQueue
from shared.i18n import Lang
from shared.scoring.benchmarks import PublishedBenchmarks
from shared.scoring.engine import ScoreResult
from shared.scoring.simulator import Path

BAD_DATA = "BadData"


def bad_data(message: str) -> ApplicationError:
    """For activities: this input can never succeed; fail the step now, visibly."""
    return ApplicationError(message, type=BAD_DATA, non_retryable=True)


class Traced(BaseModel):
    """Every activity input carries these so logs are correlated across services."""

    submission_id: str
    correlation_id: str = ""


# --- intake -----------------------------------------------------------------------------------


class StatusRecord(Traced):
    status: Stage
    previous: Stage | None = None
    detail: str = ""
    # Who or what the submission waits for now (shown to operators), e.g. "auditor".
    waiting_for: WaitingFor = WaitingFor.NOTHING
    # When the workflow entered the stage (None from runs started before it was sent).
    at: AwareDatetime | None = None
    # The person whose action moved it there, when a person did (a withdrawal: who withdrew).
    actor_name: str = ""


class StepRecord(Traced):
    """A step failed on bad data (`error`), or an operator asked to run it again (`retried_by`)."""

    stage: Stage
    step: str
    error: str = ""
    retried_by: str | None = None


class EvidenceCheck(Traced):
    evidence_keys: list[str]


class EvidenceCheckResult(BaseModel):
    checked: int
    missing: list[str] = Field(default_factory=list)


# --- audit ------------------------------------------------------------------------------------


class ReviewRequest(Traced):
    """Audit's own copy of what the city submitted travels with the request."""

    submission: FrozenSubmission


class ReviewOpened(BaseModel):
    case_id: str
    due_at: AwareDatetime
    # The holder is reminded this long before the due date.
    remind_before: timedelta = timedelta(days=2)


class ReviewOutcome(BaseModel):
    """The final responses of an approved review, with every change and its reasons."""

    case_id: str
    audited_responses: dict[str, Answer]
    corrections: int = 0
    changes: list[AuditedChange] = Field(default_factory=list)
    approved_by: str | None = None


class ReviewDue(Traced):
    """The review clock moved (a clarification round paused it): the new due date."""

    case_id: str
    due_at: AwareDatetime


class ReviewReminder(Traced):
    case_id: str
    kind: ReviewReminderKind
    due_at: AwareDatetime


class RoundClosed(Traced):
    """A clarification round ended unanswered at its due date."""

    case_id: str
    request_id: str
    outcome: RoundEnding = RoundEnding.EXPIRED


class AppealedFinding(BaseModel):
    """One appealed criterion as audit needs it: what the city submitted, the audited
    response it appeals, its statement and the new evidence (object keys with names)."""

    criterion_id: str
    submitted: Answer | None = None
    audited: Answer
    statement: str
    evidence: list[EvidenceItem] = Field(default_factory=list)


class AppealRequest(Traced):
    """Open the appeal's case: the appealed findings, and who took part in the original
    review (none of them may decide or sign off the appeal; audit adds what it knows)."""

    appeal_id: str
    case_id: str | None = None  # the review case (None: an automatic review)
    city_id: str
    city_name: str = ""
    cycle: str = ""
    catalog_version: str = ""
    filed_at: AwareDatetime
    filed_by_name: str = ""
    criteria: list[AppealedFinding]
    reviewers: list[str] = Field(default_factory=list)


class AppealOpened(BaseModel):
    appeal_id: str
    due_at: AwareDatetime
    remind_before: timedelta = timedelta(days=2)


class AppealReminder(Traced):
    appeal_id: str
    kind: ReviewReminderKind
    due_at: AwareDatetime


# --- scoring ----------------------------------------------------------------------------------


class ScoreRequest(Traced):
    city_id: str
    cycle: str
    catalog_version: str
    audited_responses: dict[str, Answer]
    region: str | None = None
    population_band: str | None = None
    # 1: the first score; an appeal that overturned a finding scores again as 2 (scoring
    # computes each revision once and replaces the submission's score with it).
    revision: int = 1


class ScoreOutcome(BaseModel):
    """Scoring's whole answer, which the report shows without scoring again."""

    met: int
    total: int
    percent: int
    tier: str | None = None
    # The benchmarks published when the score was computed (the report shows these).
    benchmarks: PublishedBenchmarks | None = None
    # The explainable score (every area and criterion, why each is met or not) and the way
    # to the next tier (None: at the highest tier); absent only from runs scored before
    # they travelled with the score.
    result: ScoreResult | None = None
    path: Path | None = None


# --- reporting --------------------------------------------------------------------------------


class AppealChange(BaseModel):
    """What an appeal changed (or confirmed) for one criterion, as the reissued report shows it."""

    criterion_id: str
    outcome: AppealOutcome
    before: Answer  # the audited response the city appealed
    after: Answer   # the response that stands
    reason_code: str = ""
    explanation: str = ""


class ReportRevision(BaseModel):
    """A reissued report: which version, why (the appeal and its decisions), and what it replaces.
    The frozen document records this; the previous version stays retrievable and its
    verification page says it is superseded."""

    version: int
    appeal_id: str
    decided_at: AwareDatetime
    changes: list[AppealChange]
    previous_report_id: str
    previous_tier: str | None = None
    previous_percent: int = 0


class ReportRequest(Traced):
    """What the report states: the submission as frozen, the auditors' changes, and the
    score as scoring computed it (the final responses are in the score's result)."""

    submission: FrozenSubmission
    changes: list[AuditedChange] = Field(default_factory=list)
    score: ScoreOutcome
    revision: ReportRevision | None = None  # None: the first report

    @property
    def city_id(self) -> str:
        return self.submission.city.id


class ReportOutcome(BaseModel):
    report_id: str
    object_key: str | None = None
    verification_code: str | None = None
    url: str | None = None


# --- notify -----------------------------------------------------------------------------------


class DebriefRequest(Traced):
    city_id: str
    contact_email: str | None = None
    city_name: str = ""
    language: Lang = "en"
    tier: str | None = None
    report_url: str | None = None


class AppealOutcomeMail(Traced):
    """Notify mails the city the appeal's outcome (and the reissued report, if any)."""

    city_id: str
    appeal_id: str
    contact_email: str | None = None
    city_name: str = ""
    language: Lang = "en"
    overturned: list[str] = Field(default_factory=list)  # criterion ids
    upheld: list[str] = Field(default_factory=list)
    tier: str | None = None           # the tier that stands now
    previous_tier: str | None = None
    report_version: int = 1           # 1: no reissue (every finding upheld)
    report_url: str | None = None


class DebriefOutcome(BaseModel):
    """An offer of a debrief call, bookable until `expires_at`."""

    offer_id: str
    emailed: bool = False
    expires_at: AwareDatetime | None = None
    booking_url: str | None = None


class ClarificationReminder(Traced):
    """A clarification round is due soon and the city has not answered."""

    request_id: str
    criteria: list[str]
    due_at: AwareDatetime


class DebriefReminder(Traced):
    offer_id: str
    booking_id: str
    starts_at: AwareDatetime
    kind: CallReminderKind


class DebriefClosed(Traced):
    """The offer ended without a call (declined, or nobody booked before it expired)."""

    offer_id: str
    outcome: DebriefEnding  # declined | expired


# --- the table --------------------------------------------------------------------------------


def retry(*, first: float = 1, most: float = 60, attempts: int = 0) -> RetryPolicy:
    return RetryPolicy(initial_interval=timedelta(seconds=first), backoff_coefficient=2.0,
                       maximum_interval=timedelta(seconds=most), maximum_attempts=attempts,
                       non_retryable_error_types=[BAD_DATA])


# Every activity on a service's task queue must heartbeat within this (the worker does it
# from its event loop: shared.infra.temporal.HeartbeatInterceptor), so a worker killed
# mid-step is noticed, and the step retried, within seconds instead of minutes.
HEARTBEAT = timedelta(seconds=15)


@dataclass(frozen=True)
class ActivitySpec:
    name: str
    queue: TaskQueue
    result: type | None
    start_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = HEARTBEAT
    # Run in the workflow's own worker, without a round trip to the server (cheap writes
    # of the workflow's owner; only intake's, whose worker hosts the workflow).
    local: bool = False


class Activities:
    """Every activity the certification workflow calls (`<owner>.<verb>`)."""

    RECORD_STATUS = ActivitySpec("intake.record_status", TaskQueue.INTAKE, None,
                                 timedelta(seconds=30), retry(first=0.5, most=10), local=True)
    RECORD_STEP = ActivitySpec("intake.record_step", TaskQueue.INTAKE, None,
                               timedelta(seconds=30), retry(first=0.5, most=10), local=True)
    CHECK_EVIDENCE = ActivitySpec("intake.check_evidence", TaskQueue.INTAKE, EvidenceCheckResult,
                                  timedelta(minutes=10), retry())
    OPEN_REVIEW = ActivitySpec("audit.open_review", TaskQueue.AUDIT, ReviewOpened,
                               timedelta(minutes=1), retry())
    COMPLETE_REVIEW = ActivitySpec("audit.complete_review", TaskQueue.AUDIT, ReviewOutcome,
                                   timedelta(minutes=1), retry())
    SET_REVIEW_DUE = ActivitySpec("audit.set_review_due", TaskQueue.AUDIT, None,
                                  timedelta(seconds=30), retry())
    REMIND_REVIEW = ActivitySpec("audit.remind_review", TaskQueue.AUDIT, None,
                                 timedelta(seconds=30), retry())
    CLOSE_ROUND = ActivitySpec("audit.close_round", TaskQueue.AUDIT, None,
                               timedelta(seconds=30), retry())
    OPEN_APPEAL = ActivitySpec("audit.open_appeal", TaskQueue.AUDIT, AppealOpened,
                               timedelta(minutes=1), retry())
    REMIND_APPEAL = ActivitySpec("audit.remind_appeal", TaskQueue.AUDIT, None,
                                 timedelta(seconds=30), retry())
    SCORE_SUBMISSION = ActivitySpec("scoring.score_submission", TaskQueue.SCORING, ScoreOutcome,
                                    timedelta(minutes=2), retry())
    RENDER_REPORT = ActivitySpec("reporting.render_report", TaskQueue.REPORTING, ReportOutcome,
                                 timedelta(minutes=5), retry(first=2, most=60))
    OFFER_DEBRIEF = ActivitySpec("notify.offer_debrief", TaskQueue.NOTIFY, DebriefOutcome,
                                 timedelta(minutes=1), retry())
    REMIND_CLARIFICATION = ActivitySpec("notify.remind_clarification", TaskQueue.NOTIFY, None,
                                        timedelta(minutes=1), retry())
    REMIND_DEBRIEF = ActivitySpec("notify.remind_debrief", TaskQueue.NOTIFY, None,
                                  timedelta(minutes=1), retry())
    CLOSE_DEBRIEF = ActivitySpec("notify.close_debrief", TaskQueue.NOTIFY, None,
                                 timedelta(minutes=1), retry())
    MAIL_APPEAL_OUTCOME = ActivitySpec("notify.mail_appeal_outcome", TaskQueue.NOTIFY, None,
                                       timedelta(minutes=1), retry())

    @classmethod
    def all(cls) -> list[ActivitySpec]:
        return [v for v in vars(cls).values() if isinstance(v, ActivitySpec)]

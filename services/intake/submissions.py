"""Submitting an assessment: check completeness, freeze an immutable snapshot, publish
`wwc.intake.submission.submitted` and start the CertificationWorkflow, all in one
transaction (the start is delivered after commit by certification.gateway). Reading a
submission's progress needs no workflow engine (services/intake/progress.py); only a
withdrawal asks the workflow directly, for its yes or no."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from certification import gateway
from certification.contract import CertificationInput, Stage, StageEntry, Withdrawal, certification_workflow_id
from services.intake import domain, progress
from services.intake.domain import AssessmentState
from services.intake.errors import NotFound, TooLateToWithdraw, WorkflowUnavailable
from services.intake.models import Assessment, City, Evidence, Response, Submission
from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject, SubmissionSubmitted, SubmissionWithdrawn, make_event
from shared.contracts.submission import EvidenceItem, FrozenCity, FrozenResponse, FrozenSubmission
from shared.contracts.vocabulary import ReviewMode
from shared.infra.auth import Principal, Role
from shared.infra.logging import get_logger
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime

log = get_logger(__name__)

# The submission row's status while no workflow has run it yet (then: the workflow's stage).
NOT_STARTED = Stage.SUBMITTED.value


class SubmissionRead(BaseModel):
    id: str
    city_id: str
    cycle: str
    catalog_version: str
    status: str = Field(description="the stage the certification is at")
    workflow_id: str
    submitted_at: datetime
    status_changed_at: datetime | None = None
    waiting_for: str = Field(default="", description="who or what the certification waits for now")
    history: list[StageEntry] = Field(default_factory=list, description="every stage entered, in order")
    score: progress.ScoreRead | None = None
    report_id: str | None = None
    report_url: str | None = None
    debrief_starts_at: datetime | None = None
    debrief_outcome: str | None = None
    withdrawn_reason: str | None = None
    withdrawn_by: str = Field(default="", description="who at the city withdrew it (their name)")
    audited: list[progress.AuditedLine] = Field(
        default_factory=list, description="once the review is approved: every criterion as audited, beside "
                                          "what the city submitted, with the reason for each change")
    appeal_open_until: datetime | None = Field(
        default=None, description="once completed: until when the city may appeal audited findings")


class FrozenRead(BaseModel):
    """The immutable snapshot frozen at submission: responses, narratives, evidence manifest."""

    submission_id: str
    frozen: FrozenSubmission


class WithdrawalCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "We will apply next cycle."}]})

    reason: str = Field(default="", max_length=2000)


def read(sub: Submission) -> SubmissionRead:
    return SubmissionRead(id=sub.id, city_id=sub.city_id, cycle=sub.cycle, catalog_version=sub.catalog_version,
                          status=sub.status, workflow_id=sub.workflow_id, submitted_at=sub.submitted_at,
                          status_changed_at=sub.status_changed_at, waiting_for=sub.waiting_for,
                          history=progress.stages_of(sub), score=progress.score_of(sub), report_id=sub.report_id,
                          report_url=sub.report_url, debrief_starts_at=sub.debrief_starts_at,
                          debrief_outcome=sub.debrief_outcome, withdrawn_reason=sub.withdrawn_reason,
                          withdrawn_by=sub.withdrawn_by_name or "", audited=list(progress.audited_of(sub).values()),
                          appeal_open_until=progress.appeal_open_until(sub))


async def visible(session: AsyncSession, principal: Principal, submission_id: str) -> Submission:
    """A submission the principal may see; another city's is reported as absent (no probing)."""
    sub = await session.get(Submission, submission_id)
    if sub is None or not principal.can_see_city(sub.city_id):
        raise NotFound(f"no submission {submission_id}")
    return sub


async def list_for(session: AsyncSession, principal: Principal, cycle: str | None = None) -> list[Submission]:
    """A city's own submissions (auditors and operators: every city's), newest first."""
    stmt = select(Submission)
    if principal.role == Role.CITY:
        stmt = stmt.where(Submission.city_id == principal.city_id)
    if cycle:
        stmt = stmt.where(Submission.cycle == cycle)
    return list((await session.scalars(stmt.order_by(Submission.submitted_at.desc()))).all())


async def submit(runtime: ServiceRuntime, *, city_id: str, cycle: str, user_id: str,
                 review_mode: ReviewMode, appeal_window_days: int = 30) -> tuple[Submission, bool]:
    """Freeze the cycle's draft and start its workflow; (submission, created).
    Submitting again returns the same submission."""
    try:
        async with runtime.db.transaction() as session:
            assessment = await session.scalar(
                select(Assessment).where(Assessment.city_id == city_id, Assessment.cycle == cycle)
                .with_for_update())
            if assessment is None:
                raise NotFound(f"No assessment for cycle {cycle}.")
            existing = await session.scalar(select(Submission).where(Submission.assessment_id == assessment.id))
            if existing is None:
                # The city's row locked (and read afresh) while its facts are frozen: a facts
                # correction in flight commits first or waits (services/intake/city_facts.py).
                city = await session.get(City, city_id, with_for_update=True, populate_existing=True)
                sub = await freeze(session, assessment, city, user_id)
                sub.appeal_window_days = appeal_window_days
                await gateway.start(session, workflow_input(sub, runtime, review_mode))
            else:
                sub = existing
    except IntegrityError:
        # Two submits at once (SQLite has no row lock): the other one froze it first.
        async with runtime.db.sessionmaker() as session:
            existing = await session.scalar(
                select(Submission).join(Assessment, Submission.assessment_id == Assessment.id)
                .where(Assessment.city_id == city_id, Assessment.cycle == cycle))
        if existing is None:
            raise
        sub = existing
    runtime.wake_relay()
    return sub, existing is None


async def freeze(session: AsyncSession, assessment: Assessment, city: City, submitted_by: str) -> Submission:
    catalog = load_catalog(assessment.catalog_version)
    responses = {r.criterion_id: r for r in (await session.scalars(
        select(Response).where(Response.assessment_id == assessment.id))).all()}
    evidence: dict[str, list[Evidence]] = {}
    for ev in (await session.scalars(select(Evidence).where(
            Evidence.assessment_id == assessment.id, Evidence.clarification_id.is_(None))
            .order_by(Evidence.criterion_id, Evidence.created_at))).all():
        evidence.setdefault(ev.criterion_id, []).append(ev)
    domain.ensure_complete(domain.missing_items(
        catalog, {cid: r.response for cid, r in responses.items()}, {cid: len(e) for cid, e in evidence.items()}))
    frozen = FrozenSubmission(
        catalog_version=assessment.catalog_version, cycle=assessment.cycle,
        city=FrozenCity(id=city.id, name=city.name, state=city.state, country=city.country,
                        population=city.population, region=city.region, population_band=city.population_band,
                        contact_email=city.contact_email, language=city.language, timezone=city.timezone),
        responses={cid: FrozenResponse(response=r.response, narrative=r.narrative)
                   for cid, r in sorted(responses.items())},
        evidence=[EvidenceItem(id=e.id, criterion_id=e.criterion_id, kind=e.kind, filename=e.filename,
                               object_key=e.object_key, size=e.size, sha256=e.sha256, content_type=e.content_type,
                               url=e.url, title=e.title)
                  for items in evidence.values() for e in items],
    )
    sub = Submission(
        assessment_id=assessment.id, city_id=city.id, cycle=assessment.cycle,
        catalog_version=assessment.catalog_version, frozen=frozen.model_dump(mode="json"),
        submitted_by=submitted_by, status=NOT_STARTED, workflow_id="",
    )
    session.add(sub)
    await session.flush()
    sub.workflow_id = certification_workflow_id(sub.id)
    progress.add_stage(sub, NOT_STARTED, datetime.now(UTC))
    assessment.status = AssessmentState.SUBMITTED
    await add_event(session, make_event(
        Subject.SUBMISSION_SUBMITTED,
        SubmissionSubmitted(submission_id=sub.id, city_id=city.id, cycle=sub.cycle,
                            catalog_version=sub.catalog_version, answered=len(responses),
                            evidence_count=len(frozen.evidence), city_name=city.name,
                            contact_email=city.contact_email, submitted_by=sub.submitted_by),
        submission_id=sub.id, city_id=city.id, correlation_id=sub.id,
    ))
    return sub


def frozen_of(sub: Submission) -> FrozenSubmission:
    return FrozenSubmission.model_validate(sub.frozen)


def workflow_input(sub: Submission, runtime: ServiceRuntime, review_mode: ReviewMode) -> CertificationInput:
    return CertificationInput(
        submission_id=sub.id, correlation_id=sub.id, submission=frozen_of(sub), review_mode=review_mode,
        task_queue_prefix=runtime.settings.temporal.task_queue_prefix,
        appeal_window_days=sub.appeal_window_days if sub.appeal_window_days is not None else 30,
    )


async def withdraw(runtime: ServiceRuntime, sub: Submission, data: WithdrawalCreate, *, by_name: str = "",
                   wait_seconds: float = 10.0) -> bool:
    """Withdraw before scoring starts: the workflow's `withdraw` update answers at once
    whether it is accepted (its validator refuses once scoring has started:
    TooLateToWithdraw), then completes when the withdrawal is recorded; True once it is,
    False when the workflow will act at the end of its current step. The workflow records
    and publishes the withdrawal itself (intake.record_status), so it lands either way."""
    if sub.status == Stage.WITHDRAWN:
        return True
    if not domain.can_withdraw(Stage(sub.status)):
        raise _too_late(Stage(sub.status))
    client = runtime.temporal_client
    if client is None:
        raise WorkflowUnavailable("The certification workflow cannot be reached; try again in a moment.")
    try:
        _, done = await gateway.withdraw(client, sub.id, Withdrawal(reason=data.reason, by_name=by_name),
                                         wait_seconds=wait_seconds)
    except gateway.WithdrawalRefused:
        async with runtime.db.sessionmaker() as session:
            now = await session.get(Submission, sub.id)
        raise _too_late(Stage(now.status if now else sub.status)) from None
    except Exception as exc:  # the engine is unreachable: the city may try again
        log.warning("workflow.withdraw_unavailable", submission_id=sub.id, error=str(exc)[:300])
        raise WorkflowUnavailable("The certification workflow cannot be reached; try again in a moment.") from None
    return done


async def record_withdrawal(session: AsyncSession, sub: Submission, reason: str, correlation_id: str, *,
                            by_name: str = "") -> None:
    """The assessment is marked withdrawn and the fact published, once, naming who withdrew."""
    assessment = await session.get(Assessment, sub.assessment_id, with_for_update=True)
    sub.withdrawn_reason, sub.withdrawn_by_name = reason, by_name
    if assessment is not None and assessment.status != AssessmentState.WITHDRAWN:
        assessment.status = AssessmentState.WITHDRAWN
        await add_event(session, make_event(
            Subject.SUBMISSION_WITHDRAWN,
            SubmissionWithdrawn(submission_id=sub.id, city_id=sub.city_id, reason=reason, by_name=by_name),
            submission_id=sub.id, city_id=sub.city_id, correlation_id=correlation_id,
        ))


def _too_late(stage: Stage) -> TooLateToWithdraw:
    return TooLateToWithdraw(f"The submission is at the stage '{stage.value}': scoring has started, so it can no "
                             f"longer be withdrawn.", stage=stage.value)

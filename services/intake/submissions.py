"""Submitting an assessment: check completeness, freeze an immutable snapshot, publish
`wwc.intake.submission.submitted` and start the CertificationWorkflow (idempotently)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.intake import domain
from services.intake.domain import AssessmentState
from services.intake.errors import NotFound, TooLateToWithdraw, WorkflowUnavailable
from services.intake.models import Assessment, City, Evidence, Response, Submission
from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject, SubmissionSubmitted, SubmissionWithdrawn, make_event
from shared.contracts.submission import EvidenceItem, FrozenCity, FrozenResponse, FrozenSubmission
from shared.contracts.vocabulary import ReviewMode
from shared.contracts.workflows import (
    CERTIFICATION_WORKFLOW,
    CertificationInput,
    CertificationStatus,
    Query,
    initial_search_attributes,
    Stage,
    TaskQueue,
    Update,
    Withdrawal,
    certification_workflow_id,
)
from shared.infra.auth import Principal, Role
from shared.infra.logging import get_logger
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime
from shared.infra.temporal import task_queue

log = get_logger(__name__)

# The submission row's status while no workflow has run it yet (then: the workflow's stage).
NOT_STARTED = Stage.SUBMITTED.value


class SubmissionRead(BaseModel):
    id: str
    city_id: str
    cycle: str
    catalog_version: str
    status: str
    workflow_id: str
    submitted_at: datetime
    status_changed_at: datetime | None = None
    workflow: CertificationStatus | None = Field(
        default=None, description="live state from the CertificationWorkflow (stage, history, open clarifications)")


class FrozenRead(BaseModel):
    """The immutable snapshot frozen at submission: responses, narratives, evidence manifest."""

    submission_id: str
    frozen: FrozenSubmission


class WithdrawalCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "We will apply next cycle."}]})

    reason: str = Field(default="", max_length=2000)


def read(sub: Submission, wf: CertificationStatus | None = None) -> SubmissionRead:
    return SubmissionRead(id=sub.id, city_id=sub.city_id, cycle=sub.cycle, catalog_version=sub.catalog_version,
                          status=sub.status, workflow_id=sub.workflow_id, submitted_at=sub.submitted_at,
                          status_changed_at=sub.status_changed_at, workflow=wf)


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
                 review_mode: ReviewMode) -> tuple[Submission, bool]:
    """Freeze the cycle's draft and start its workflow; (submission, created).
    Submitting again returns the same submission and makes sure its workflow runs."""
    try:
        async with runtime.db.transaction() as session:
            assessment = await session.scalar(
                select(Assessment).where(Assessment.city_id == city_id, Assessment.cycle == cycle)
                .with_for_update())
            if assessment is None:
                raise NotFound(f"No assessment for cycle {cycle}.")
            existing = await session.scalar(select(Submission).where(Submission.assessment_id == assessment.id))
            if existing is None:
                city = await session.get(City, city_id)
                sub = await freeze(session, assessment, city, user_id)
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
    await ensure_started(runtime, sub, review_mode)
    return sub, existing is None


async def ensure_started(runtime: ServiceRuntime, sub: Submission, review_mode: ReviewMode) -> None:
    """Start the workflow of a submission that has not started one yet.

    Only a submission still at "submitted" is started: a finished or withdrawn one is never
    run again, even once Temporal has forgotten its old run. If Temporal is unreachable the
    submission stands; the intake-workflow-starter consumer starts it when Temporal is back."""
    if sub.status != NOT_STARTED:
        return
    if runtime.temporal_client is None:
        log.warning("workflow.start_deferred", submission_id=sub.id, reason="Temporal not connected")
        return
    try:
        await start_workflow(runtime.temporal_client, runtime, sub, review_mode)
    except RPCError as exc:
        log.warning("workflow.start_deferred", submission_id=sub.id, error=str(exc)[:300])


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
    assessment.status = AssessmentState.SUBMITTED
    await add_event(session, make_event(
        Subject.SUBMISSION_SUBMITTED,
        SubmissionSubmitted(submission_id=sub.id, city_id=city.id, cycle=sub.cycle,
                            catalog_version=sub.catalog_version, answered=len(responses),
                            evidence_count=len(frozen.evidence), city_name=city.name,
                            contact_email=city.contact_email),
        submission_id=sub.id, city_id=city.id, correlation_id=sub.id,
    ))
    return sub


def frozen_of(sub: Submission) -> FrozenSubmission:
    return FrozenSubmission.model_validate(sub.frozen)


def workflow_input(sub: Submission, runtime: ServiceRuntime, review_mode: ReviewMode) -> CertificationInput:
    return CertificationInput(
        submission_id=sub.id, correlation_id=sub.id, submission=frozen_of(sub), review_mode=review_mode,
        task_queue_prefix=runtime.settings.temporal.task_queue_prefix,
    )


async def start_workflow(client: Client, runtime: ServiceRuntime, sub: Submission, review_mode: ReviewMode) -> bool:
    """Start the submission's workflow; a second start of the same id is a no-op."""
    try:
        inp = workflow_input(sub, runtime, review_mode)
        await client.start_workflow(
            CERTIFICATION_WORKFLOW,
            inp,
            id=sub.workflow_id,
            search_attributes=initial_search_attributes(inp),
            task_queue=task_queue(runtime.settings.temporal, TaskQueue.INTAKE),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        return True
    except WorkflowAlreadyStartedError:
        return False


async def workflow_status(client: Client, workflow_id: str) -> CertificationStatus | None:
    try:
        handle = client.get_workflow_handle(workflow_id)
        return await handle.query(Query.STATUS, result_type=CertificationStatus)
    except RPCError:
        return None



def temporal(runtime: ServiceRuntime) -> Client:
    if runtime.temporal_client is None:
        raise WorkflowUnavailable("The certification workflow cannot be reached; try again in a moment.")
    return runtime.temporal_client


async def live_status(runtime: ServiceRuntime, sub: Submission) -> CertificationStatus:
    status = await workflow_status(temporal(runtime), sub.workflow_id)
    if status is None:
        raise WorkflowUnavailable("The submission's workflow did not answer; try again shortly.")
    return status


async def withdraw(runtime: ServiceRuntime, sub: Submission, data: WithdrawalCreate, *,
                   wait_seconds: float = 10.0) -> tuple[CertificationStatus, bool]:
    """Withdraw before scoring starts: the workflow's `withdraw` update answers at once
    whether it is accepted (its validator refuses once scoring has started:
    TooLateToWithdraw), then completes when the withdrawal is recorded; (status,
    confirmed). The workflow records and publishes the withdrawal itself
    (intake.record_status), so it lands even if this call returns first."""
    status = await live_status(runtime, sub)
    if status.stage == Stage.WITHDRAWN:
        return status, True
    if not domain.can_withdraw(status.stage):
        raise _too_late(status.stage)
    handle = temporal(runtime).get_workflow_handle(sub.workflow_id)
    try:
        update = await handle.start_update(Update.WITHDRAW, Withdrawal(reason=data.reason),
                                           wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                                           result_type=CertificationStatus)
    except (WorkflowUpdateFailedError, RPCError):  # refused, or the run ended meanwhile
        raise _too_late((await live_status(runtime, sub)).stage) from None
    try:
        return await asyncio.wait_for(update.result(), timeout=wait_seconds), True
    except TimeoutError:  # accepted; the workflow acts when its current step ends
        return await live_status(runtime, sub), False


async def record_withdrawal(session: AsyncSession, sub: Submission, reason: str, correlation_id: str) -> None:
    """The assessment is marked withdrawn and the fact published, once."""
    assessment = await session.get(Assessment, sub.assessment_id, with_for_update=True)
    if assessment is not None and assessment.status != AssessmentState.WITHDRAWN:
        assessment.status = AssessmentState.WITHDRAWN
        await add_event(session, make_event(
            Subject.SUBMISSION_WITHDRAWN,
            SubmissionWithdrawn(submission_id=sub.id, city_id=sub.city_id, reason=reason),
            submission_id=sub.id, city_id=sub.city_id, correlation_id=correlation_id,
        ))


def _too_late(stage: Stage) -> TooLateToWithdraw:
    return TooLateToWithdraw(f"The submission is at the stage '{stage.value}': scoring has started, so it can no "
                             f"longer be withdrawn.", stage=stage.value)

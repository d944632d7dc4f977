"""Submitting an assessment: check completeness, freeze an immutable snapshot, publish
`wwc.intake.submission.submitted` and start the CertificationWorkflow (idempotently)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from services.intake.models import Assessment, City, Evidence, Response, Submission
from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject, SubmissionSubmitted, SubmissionWithdrawn, make_event
from shared.contracts.workflows import (
    CERTIFICATION_WORKFLOW,
    CertificationInput,
    CertificationStatus,
    Query,
    Signal,
    Stage,
    TaskQueue,
    Withdrawal,
    certification_workflow_id,
)
from shared.infra.auth import Principal
from shared.infra.http import ProblemError
from shared.infra.logging import get_logger
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime
from shared.infra.temporal import task_queue

log = get_logger(__name__)

# A city may withdraw until scoring starts (the workflow ignores the signal afterwards).
WITHDRAWABLE = (Stage.SUBMITTED, Stage.EVIDENCE_CHECK, Stage.IN_REVIEW, Stage.CLARIFICATION)


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
    frozen: dict


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
        raise ProblemError(404, "Not found", f"no submission {submission_id}")
    return sub


async def list_for(session: AsyncSession, principal: Principal, cycle: str | None = None) -> list[Submission]:
    """A city's own submissions (auditors and operators: every city's), newest first."""
    stmt = select(Submission)
    if principal.role == "city":
        stmt = stmt.where(Submission.city_id == principal.city_id)
    if cycle:
        stmt = stmt.where(Submission.cycle == cycle)
    return list((await session.scalars(stmt.order_by(Submission.submitted_at.desc()))).all())


async def submit(runtime: ServiceRuntime, *, city_id: str, cycle: str, user_id: str,
                 review_mode: str) -> tuple[Submission, bool]:
    """Freeze the cycle's draft and start its workflow; (submission, created).
    Submitting again returns the same submission and makes sure its workflow runs."""
    try:
        async with runtime.db.transaction() as session:
            assessment = await session.scalar(
                select(Assessment).where(Assessment.city_id == city_id, Assessment.cycle == cycle)
                .with_for_update())
            if assessment is None:
                raise ProblemError(404, "Not found", f"No assessment for cycle {cycle}.")
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


async def ensure_started(runtime: ServiceRuntime, sub: Submission, review_mode: str) -> None:
    """Start the workflow of a submission that has not started one yet.

    Only a submission still at "submitted" is started: a finished or withdrawn one is never
    run again, even once Temporal has forgotten its old run. If Temporal is unreachable the
    submission stands; the intake-workflow-starter consumer starts it when Temporal is back."""
    if sub.status != "submitted":
        return
    if runtime.temporal_client is None:
        log.warning("workflow.start_deferred", submission_id=sub.id, reason="Temporal not connected")
        return
    try:
        await start_workflow(runtime.temporal_client, runtime, sub, review_mode)
    except RPCError as exc:
        log.warning("workflow.start_deferred", submission_id=sub.id, error=str(exc)[:300])


def missing_items(catalog, responses: dict[str, Response], evidence: dict[str, list[Evidence]]) -> list[dict]:
    """What stops a submission: every criterion answered; every YES with its evidence."""
    problems = []
    for crit in catalog.criteria:
        r = responses.get(crit.id)
        if r is None or not r.response:
            problems.append({"field": f"responses.{crit.id}", "reason": "not answered",
                             "criterion_id": crit.id, "area": crit.area})
        elif r.response == "YES" and crit.evidence_required_for_yes and not evidence.get(crit.id):
            problems.append({"field": f"responses.{crit.id}.evidence",
                             "reason": "a YES needs evidence: upload a file or add a link",
                             "criterion_id": crit.id, "area": crit.area})
    return problems


async def freeze(session: AsyncSession, assessment: Assessment, city: City, submitted_by: str) -> Submission:
    catalog = load_catalog(assessment.catalog_version)
    responses = {r.criterion_id: r for r in (await session.scalars(
        select(Response).where(Response.assessment_id == assessment.id))).all()}
    evidence: dict[str, list[Evidence]] = {}
    for ev in (await session.scalars(select(Evidence).where(
            Evidence.assessment_id == assessment.id, Evidence.clarification_id.is_(None))
            .order_by(Evidence.criterion_id, Evidence.created_at))).all():
        evidence.setdefault(ev.criterion_id, []).append(ev)
    problems = missing_items(catalog, responses, evidence)
    if problems:
        raise ProblemError(
            422, "Assessment incomplete",
            f"{len(problems)} item(s) must be completed before submitting.", errors=problems,
        )
    frozen = {
        "catalog_version": assessment.catalog_version,
        "cycle": assessment.cycle,
        "city": {"id": city.id, "name": city.name, "state": city.state, "country": city.country,
                 "population": city.population, "region": city.region,
                 "population_band": city.population_band, "contact_email": city.contact_email},
        "responses": {cid: {"response": r.response, "narrative": r.narrative} for cid, r in sorted(responses.items())},
        "evidence": [
            {"id": e.id, "criterion_id": e.criterion_id, "kind": e.kind, "filename": e.filename,
             "object_key": e.object_key, "size": e.size, "sha256": e.sha256, "content_type": e.content_type,
             "url": e.url, "title": e.title}
            for items in evidence.values() for e in items
        ],
    }
    sub = Submission(
        assessment_id=assessment.id, city_id=city.id, cycle=assessment.cycle,
        catalog_version=assessment.catalog_version, frozen=frozen, submitted_by=submitted_by,
        status="submitted", workflow_id="",
    )
    session.add(sub)
    await session.flush()
    sub.workflow_id = certification_workflow_id(sub.id)
    assessment.status = "submitted"
    await add_event(session, make_event(
        Subject.SUBMISSION_SUBMITTED,
        SubmissionSubmitted(submission_id=sub.id, city_id=city.id, cycle=sub.cycle,
                            catalog_version=sub.catalog_version, answered=len(responses),
                            evidence_count=len(frozen["evidence"]), city_name=city.name,
                            contact_email=city.contact_email),
        submission_id=sub.id, city_id=city.id, correlation_id=sub.id,
    ))
    return sub


def workflow_input(sub: Submission, runtime: ServiceRuntime, review_mode: str) -> CertificationInput:
    frozen = sub.frozen
    return CertificationInput(
        submission_id=sub.id, correlation_id=sub.id, city_id=sub.city_id, cycle=sub.cycle,
        catalog_version=sub.catalog_version,
        responses={cid: r["response"] for cid, r in frozen["responses"].items()},
        evidence_keys=[e["object_key"] for e in frozen["evidence"] if e.get("object_key")],
        region=frozen["city"]["region"], population_band=frozen["city"]["population_band"],
        contact_email=frozen["city"].get("contact_email"), city_name=frozen["city"]["name"], review_mode=review_mode,
        task_queue_prefix=runtime.settings.temporal.task_queue_prefix,
    )


async def start_workflow(client: Client, runtime: ServiceRuntime, sub: Submission, review_mode: str) -> bool:
    """Start the submission's workflow; a second start of the same id is a no-op."""
    try:
        await client.start_workflow(
            CERTIFICATION_WORKFLOW,
            workflow_input(sub, runtime, review_mode),
            id=sub.workflow_id,
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



def _temporal(runtime: ServiceRuntime) -> Client:
    if runtime.temporal_client is None:
        raise ProblemError(503, "Workflow engine unavailable", "The certification workflow cannot be reached; "
                                                                "try again in a moment.")
    return runtime.temporal_client


async def live_status(runtime: ServiceRuntime, sub: Submission) -> CertificationStatus:
    status = await workflow_status(_temporal(runtime), sub.workflow_id)
    if status is None:
        raise ProblemError(503, "Status unavailable", "The submission's workflow did not answer; try again shortly.")
    return status


async def withdraw(runtime: ServiceRuntime, sub: Submission, data: WithdrawalCreate, *,
                   wait_seconds: float = 10.0) -> tuple[CertificationStatus, bool]:
    """Withdraw before scoring starts: read the stage, signal, and wait for the workflow
    to confirm; (status, confirmed). After scoring started (or if it started meanwhile)
    -> 409. The workflow records the withdrawal itself (intake.record_status), so it is
    recorded and published even when it lands after this call has returned."""
    status = await live_status(runtime, sub)
    if status.stage == Stage.WITHDRAWN:
        return status, True
    if status.stage not in WITHDRAWABLE:
        raise _too_late(status.stage)
    handle = _temporal(runtime).get_workflow_handle(sub.workflow_id)
    await handle.signal(Signal.WITHDRAW, Withdrawal(reason=data.reason))
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        status = await live_status(runtime, sub)
        if status.stage == Stage.WITHDRAWN:
            return status, True
        if status.stage not in WITHDRAWABLE:
            raise _too_late(status.stage)
        if asyncio.get_running_loop().time() > deadline:
            return status, False  # signalled; the workflow acts on it when its current step ends
        await asyncio.sleep(0.1)


async def record_withdrawal(session: AsyncSession, sub: Submission, reason: str, correlation_id: str) -> None:
    """The assessment is marked withdrawn and the fact published, once."""
    assessment = await session.get(Assessment, sub.assessment_id, with_for_update=True)
    if assessment is not None and assessment.status != "withdrawn":
        assessment.status = "withdrawn"
        await add_event(session, make_event(
            Subject.SUBMISSION_WITHDRAWN,
            SubmissionWithdrawn(submission_id=sub.id, city_id=sub.city_id, reason=reason),
            submission_id=sub.id, city_id=sub.city_id, correlation_id=correlation_id,
        ))


def _too_late(stage: Stage) -> ProblemError:
    return ProblemError(409, "Too late to withdraw",
                        f"The submission is at the stage '{stage.value}': scoring has started, so it can no "
                        f"longer be withdrawn.", stage=stage.value)

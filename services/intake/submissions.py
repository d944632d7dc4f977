"""Submitting an assessment: check completeness, freeze an immutable snapshot, publish
`wwc.intake.submission.submitted` and start the CertificationWorkflow (idempotently)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject, SubmissionSubmitted, make_event
from shared.contracts.workflows import (
    CERTIFICATION_WORKFLOW,
    CertificationInput,
    CertificationStatus,
    Query,
    TaskQueue,
    certification_workflow_id,
)
from shared.infra.http import ProblemError
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime
from shared.infra.temporal import task_queue
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Assessment, City, Evidence, Response, Submission


def missing_items(catalog, responses: dict[str, Response], evidence: dict[str, list[Evidence]]) -> list[dict]:
    """What stops a submission: every criterion answered; every YES with its evidence."""
    problems = []
    for crit in catalog.criteria:
        r = responses.get(crit.id)
        if r is None or not r.response:
            problems.append({"field": f"responses.{crit.id}", "reason": "not answered"})
        elif r.response == "YES" and crit.evidence_required_for_yes and not evidence.get(crit.id):
            problems.append({"field": f"responses.{crit.id}.evidence",
                             "reason": "a YES needs evidence: upload a file or add a link"})
    return problems


async def freeze(session: AsyncSession, assessment: Assessment, city: City, submitted_by: str) -> Submission:
    catalog = load_catalog(assessment.catalog_version)
    responses = {r.criterion_id: r for r in (await session.scalars(
        select(Response).where(Response.assessment_id == assessment.id))).all()}
    evidence: dict[str, list[Evidence]] = {}
    for ev in (await session.scalars(select(Evidence).where(Evidence.assessment_id == assessment.id))).all():
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


"""Submission: submit the assessment, follow it, read what was frozen, withdraw."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.intake import submissions
from services.intake.api.docs import AUTH, problems
from services.intake.deps import CurrentCity, OpenCycle, Options, VisibleSubmission
from services.intake.errors import NotFound
from shared.infra.auth import CurrentPrincipal
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["submission"])


@router.post("/assessments/{cycle}/submit", status_code=status.HTTP_201_CREATED,
             response_model=submissions.SubmissionRead, summary="Submit the assessment",
             description="Checks completeness (every criterion answered; every YES with evidence where the "
                         "catalog asks for it) and lists what is missing (`submission_incomplete`, with each "
                         "criterion in `errors`); freezes an immutable snapshot; publishes "
                         "`wwc.intake.submission.submitted`; starts the CertificationWorkflow. Submitting again "
                         "returns the same submission (200).",
             responses=problems(*AUTH, NotFound, "submission_incomplete", "invalid_cycle"))
async def submit(cycle: OpenCycle, principal: CurrentCity, runtime: Runtime, options: Options,
                 response: Response) -> submissions.SubmissionRead:
    sub, created = await submissions.submit(runtime, city_id=principal.city_id or "", cycle=cycle,
                                            user_id=principal.sub, review_mode=options.review_mode,
                                            appeal_window_days=options.appeal_window_days)
    if not created:
        response.status_code = status.HTTP_200_OK
    return submissions.read(sub)


@router.get("/submissions", response_model=list[submissions.SubmissionRead],
            summary="The city's submissions (auditors and operators: all)", responses=problems(*AUTH))
async def list_submissions(principal: CurrentPrincipal, session: Session,
                           cycle: str | None = None) -> list[submissions.SubmissionRead]:
    return [submissions.read(s) for s in await submissions.list_for(session, principal, cycle)]


@router.get("/submissions/{submission_id}", response_model=submissions.SubmissionRead,
            summary="A submission and its progress (stages, score, report, debrief)", responses=problems(*AUTH, NotFound))
async def get_submission(sub: VisibleSubmission) -> submissions.SubmissionRead:
    return submissions.read(sub)


@router.get("/submissions/{submission_id}/frozen", response_model=submissions.FrozenRead,
            summary="The frozen snapshot: responses, narratives and the evidence manifest with hashes",
            responses=problems(*AUTH, NotFound))
async def get_frozen(sub: VisibleSubmission) -> submissions.FrozenRead:
    return submissions.FrozenRead(submission_id=sub.id, frozen=submissions.frozen_of(sub))


@router.post("/submissions/{submission_id}/withdraw", response_model=submissions.SubmissionRead,
             summary="Withdraw before scoring starts",
             description="Once scoring has started the answer is 409 `too_late_to_withdraw`. 200 once the "
                         "workflow confirms; 202 when it will act at the end of its current step; 503 "
                         "`workflow_unavailable` while the workflow engine cannot be reached.",
             responses=problems(*AUTH, NotFound, "too_late_to_withdraw", "workflow_unavailable", "invalid_input"))
async def withdraw(data: submissions.WithdrawalCreate, sub: VisibleSubmission, principal: CurrentCity,
                   runtime: Runtime, response: Response) -> submissions.SubmissionRead:
    if not await submissions.withdraw(runtime, sub, data, by_name=principal.name or ""):
        response.status_code = status.HTTP_202_ACCEPTED
    async with runtime.db.sessionmaker() as session:
        sub = await submissions.visible(session, principal, sub.id)
    return submissions.read(sub)

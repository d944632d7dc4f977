"""Clarification requests from the auditor: list them, send files, answer."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from services.intake import clarifications, drafts
from services.intake.api.docs import AUTH, problems
from services.intake.api.evidence import UPLOAD_BODY, UPLOAD_DESCRIPTION, UPLOAD_ERRORS
from services.intake.deps import CurrentCity, Options, VisibleSubmission
from services.intake.errors import NotFound
from shared.web.deps import Runtime

router = APIRouter(tags=["clarification"])
CLOSED = ("clarification_answered", "clarification_past_due", "workflow_unavailable")


@router.get("/submissions/{submission_id}/clarifications", response_model=list[clarifications.ClarificationRead],
            summary="Clarification requests: open ones and the answers given",
            responses=problems(*AUTH, NotFound, "workflow_unavailable"))
async def list_clarifications(sub: VisibleSubmission, runtime: Runtime) -> list[clarifications.ClarificationRead]:
    return await clarifications.list_requests(runtime, sub)


@router.post("/submissions/{submission_id}/clarifications/{request_id}/criteria/{criterion_id}/files",
             status_code=status.HTTP_201_CREATED, response_model=drafts.EvidenceRead,
             summary="Upload a file for a clarification request (before answering it)",
             description=UPLOAD_DESCRIPTION + " Only on a criterion the request names, before it is answered "
                                              "and before its due date.",
             openapi_extra=UPLOAD_BODY,
             responses=problems(*UPLOAD_ERRORS, *CLOSED, "criterion_not_requested"))
async def upload_clarification_file(request_id: str, criterion_id: str, sub: VisibleSubmission,
                                    principal: CurrentCity, runtime: Runtime, options: Options,
                                    request: Request) -> drafts.EvidenceRead:
    ev = await clarifications.add_file(runtime, options, principal, sub, request_id, criterion_id, request)
    return drafts.EvidenceRead.model_validate(ev)


@router.post("/submissions/{submission_id}/clarifications/{request_id}/answer",
             response_model=clarifications.ClarificationRead, status_code=status.HTTP_201_CREATED,
             summary="Answer a clarification request",
             description="A new narrative (and optional links) for each criterion the request names; files "
                         "uploaded for the request go with it. Stored apart from the frozen submission, which never "
                         "changes, and signalled to the workflow.",
             responses=problems(*AUTH, NotFound, *CLOSED, "criterion_not_requested", "answer_incomplete",
                                "invalid_input"))
async def answer_clarification(request_id: str, data: clarifications.ClarificationAnswerCreate,
                               sub: VisibleSubmission, principal: CurrentCity,
                               runtime: Runtime) -> clarifications.ClarificationRead:
    return await clarifications.answer(runtime, principal, sub, request_id, data)

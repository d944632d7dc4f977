"""Appeals: a city appeals audited findings of its completed certification, once, within
the programme's window; uploads new evidence first; reads the appeal and its decisions."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from services.intake import appeals, drafts
from services.intake.api.docs import AUTH, problems
from services.intake.api.evidence import UPLOAD_BODY, UPLOAD_DESCRIPTION, UPLOAD_ERRORS
from services.intake.deps import CurrentCity, Options, VisibleSubmission
from services.intake.errors import NotFound
from shared.web.deps import Runtime

router = APIRouter(tags=["appeal"])
REFUSED = ("appeal_not_open", "appeal_window_closed", "appeal_exists", "not_appealable")


@router.post("/submissions/{submission_id}/appeal/criteria/{criterion_id}/files",
             status_code=status.HTTP_201_CREATED, response_model=drafts.EvidenceRead,
             summary="Upload new evidence for a finding you will appeal (before filing the appeal)",
             description=UPLOAD_DESCRIPTION + " Only on a finding the audit changed, while the appeal window is "
                                              "open and before the appeal is filed.",
             openapi_extra=UPLOAD_BODY, responses=problems(*UPLOAD_ERRORS, *REFUSED))
async def upload_appeal_file(criterion_id: str, sub: VisibleSubmission, principal: CurrentCity, runtime: Runtime,
                             options: Options, request: Request) -> drafts.EvidenceRead:
    ev = await appeals.add_file(runtime, options, principal, sub, criterion_id, request)
    return drafts.EvidenceRead.model_validate(ev)


@router.post("/submissions/{submission_id}/appeal", status_code=status.HTTP_201_CREATED,
             response_model=appeals.AppealRead, summary="Appeal audited findings",
             description="Once the certification is completed (`appeal_not_open` before) and until its window "
                         "closes (`appeal_window_closed`), once (`appeal_exists`): the findings the audit changed "
                         "(`not_appealable` names any other), each with a statement; files uploaded for the appeal "
                         "go with their criterion. Independent auditors decide it; the certification completes "
                         "again, with a reissued report if a finding is overturned.",
             responses=problems(*AUTH, NotFound, *REFUSED, "invalid_input"))
async def file_appeal(data: appeals.AppealCreate, sub: VisibleSubmission, principal: CurrentCity,
                      runtime: Runtime) -> appeals.AppealRead:
    return await appeals.file(runtime, principal, sub, data)


@router.get("/submissions/{submission_id}/appeal", response_model=appeals.AppealRead,
            summary="The appeal and where it stands (filed, being decided, decided per criterion)",
            responses=problems(*AUTH, NotFound))
async def get_appeal(sub: VisibleSubmission, runtime: Runtime) -> appeals.AppealRead:
    return await appeals.get(runtime, sub)

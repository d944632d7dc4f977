"""The assessment draft: start it, read it, save criteria (optimistic concurrency),
import many answers, carry the previous cycle's answers over."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from services.intake import domain, drafts
from services.intake.api.docs import AUTH, problems
from services.intake.deps import CurrentCity, Cycle, OpenCycle, Options
from services.intake.errors import NotFound
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["assessment"])


@router.post("/assessments/{cycle}", response_model=drafts.AssessmentRead, status_code=status.HTTP_201_CREATED,
             summary="Start the cycle's assessment draft",
             description="One draft per city and cycle, on the catalog version current now. Needs an eligible "
                         "Data Snapshot for the cycle. Starting again returns the existing draft (200).",
             responses=problems(*AUTH, "snapshot_needed", "not_eligible", "invalid_cycle"))
async def start_draft(cycle: OpenCycle, principal: CurrentCity, runtime: Runtime, options: Options,
                      response: Response) -> drafts.AssessmentRead:
    async with runtime.db.transaction() as session:
        assessment, created = await drafts.start(session, city_id=principal.city_id or "", cycle=cycle,
                                                 catalog_version=options.catalog_version)
        body = await drafts.read(session, assessment)
    if not created:
        response.status_code = status.HTTP_200_OK
    return body


@router.get("/assessments/{cycle}", response_model=drafts.AssessmentRead,
            summary="The cycle's assessment: every criterion's response, narrative, version and evidence",
            responses=problems(*AUTH, NotFound, "invalid_cycle"))
async def get_draft(cycle: Cycle, principal: CurrentCity, session: Session) -> drafts.AssessmentRead:
    return await drafts.read(session, await drafts.get(session, principal.city_id or "", cycle))


@router.get("/assessments/{cycle}/progress", response_model=drafts.ProgressRead, summary="Progress per practice area",
            description="Answered of total, and YES with and without evidence, per area; plus what still stops "
                        "a submission.",
            responses=problems(*AUTH, NotFound, "invalid_cycle"))
async def get_progress(cycle: Cycle, principal: CurrentCity, session: Session) -> drafts.ProgressRead:
    return await drafts.progress(session, await drafts.get(session, principal.city_id or "", cycle))


@router.get("/assessments/{cycle}/responses/{criterion_id}", response_model=drafts.ResponseRead,
            summary="One criterion's response (with its version as ETag)",
            responses=problems(*AUTH, NotFound, "invalid_cycle"))
async def get_response(cycle: Cycle, criterion_id: str, principal: CurrentCity, session: Session,
                       response: Response) -> drafts.ResponseRead:
    body = await drafts.response_read(session, await drafts.get(session, principal.city_id or "", cycle), criterion_id)
    response.headers["ETag"] = f'"{body.version}"'
    return body


@router.put("/assessments/{cycle}/responses/{criterion_id}", response_model=drafts.ResponseRead,
            summary="Save one criterion (optimistic concurrency)",
            description="Send the `version` you read (0 for a criterion never saved), in the body or as "
                        "`If-Match: \"<version>\"`. If someone saved it since, the answer is 409 `edit_conflict` "
                        "naming the criterion, the current version and who changed it: nothing is overwritten "
                        "silently.",
            responses=problems(*AUTH, NotFound, "edit_conflict", "assessment_locked", "version_required",
                               "invalid_version", "invalid_cycle", "invalid_input"))
async def save_response(cycle: OpenCycle, criterion_id: str, data: drafts.ResponseUpdate, principal: CurrentCity,
                        runtime: Runtime, response: Response,
                        if_match: Annotated[str | None, Header(max_length=40)] = None) -> drafts.ResponseRead:
    expected = domain.required_version(data.version, if_match)
    async with runtime.db.transaction() as session:
        assessment = await drafts.get(session, principal.city_id or "", cycle)
        await drafts.save_response(session, assessment=assessment, criterion_id=criterion_id, data=data,
                                   expected_version=expected, user_id=principal.sub)
        body = await drafts.response_read(session, assessment, criterion_id)
    response.headers["ETag"] = f'"{body.version}"'
    return body


@router.put("/assessments/{cycle}/responses", summary="Import many responses at once",
            description="Saves many responses (e.g. from a spreadsheet); links become evidence. Starts the draft "
                        "if needed (the city must be eligible). Replaces what it names without a version check.",
            responses=problems(*AUTH, "assessment_locked", "snapshot_needed", "not_eligible", "invalid_cycle",
                               "invalid_input"))
async def import_responses(cycle: OpenCycle, body: drafts.BulkResponses, principal: CurrentCity, runtime: Runtime,
                           options: Options) -> dict:
    async with runtime.db.transaction() as session:
        assessment = await drafts.import_responses(session, city_id=principal.city_id or "", cycle=cycle,
                                                   catalog_version=options.catalog_version, data=body,
                                                   user_id=principal.sub)
    return {"assessment_id": assessment.id, "saved": len(body.responses)}


@router.get("/assessments/{cycle}/carry-over", response_model=drafts.CarryOverProposal,
            summary="The previous cycle's answers, offered as a starting point",
            responses=problems(*AUTH, NotFound, "nothing_to_carry_over", "invalid_cycle"))
async def carry_over_proposal(cycle: Cycle, principal: CurrentCity, session: Session,
                              from_cycle: str | None = None) -> drafts.CarryOverProposal:
    assessment = await drafts.get(session, principal.city_id or "", cycle)
    return await drafts.carry_over_proposal(session, assessment, from_cycle)


@router.post("/assessments/{cycle}/carry-over", response_model=drafts.CarryOverResult,
             summary="Copy the previous cycle's responses and narratives into the draft",
             description="Evidence files are not copied. Criteria already answered in the draft are kept unless "
                         "`overwrite` is true.",
             responses=problems(*AUTH, NotFound, "nothing_to_carry_over", "assessment_locked", "invalid_cycle"))
async def carry_over(cycle: OpenCycle, data: drafts.CarryOverApply, principal: CurrentCity,
                     runtime: Runtime) -> drafts.CarryOverResult:
    async with runtime.db.transaction() as session:
        assessment = await drafts.get(session, principal.city_id or "", cycle)
        return await drafts.carry_over(session, assessment=assessment, data=data, user_id=principal.sub)

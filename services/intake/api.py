"""Intake's JSON API under /api/v1 (thin: load or 404, call the use case).

Every error is `application/problem+json` (RFC 9457) with `errors: [{field, reason}]` for
bad input. A city only ever sees its own data: another city's ids answer 404.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi import Response as HTTPResponse
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.intake import (
    accounts,
    clarifications,
    drafts,
    evidence,
    snapshot,
    submissions,
    uploads,
)
from services.intake.config import IntakeOptions
from shared.catalog.loader import load_catalog
from shared.infra.auth import CurrentPrincipal, Principal, Role, issue_token, require_roles
from shared.infra.http import ProblemError
from shared.infra.runtime import ServiceRuntime

router = APIRouter(prefix="/api/v1")
CityUser = Annotated[Principal, Depends(require_roles(Role.CITY))]


def _rt(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


def _opts(request: Request) -> IntakeOptions:
    return request.app.state.intake_options


def _check_cycle(cycle: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", cycle):
        raise ProblemError(422, "Invalid input", f"cycle: not a cycle name ({cycle!r})",
                           errors=[{"field": "cycle", "reason": "letters, digits, '.', '_' or '-', at most 16"}])
    return cycle


# --- problem+json in the OpenAPI document -----------------------------------------------------


class ProblemField(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each bad field and why."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "about:blank", "title": "Invalid input", "status": 422,
        "detail": "population: Input should be greater than 0",
        "errors": [{"field": "population", "reason": "Input should be greater than 0"}],
    }]})

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemField] = Field(default_factory=list)


def problems(**codes: str) -> dict:
    """`problems(p404="...", p409="...")` -> FastAPI `responses=` entries as problem+json."""
    out = {}
    for key, description in codes.items():
        out[int(key[1:])] = {"model": Problem, "description": description, "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    return out


AUTH = problems(p401="not signed in or the token expired", p403="the role may not do this")


# --- accounts ---------------------------------------------------------------------------------


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    city_id: str | None = None


class Registered(BaseModel):
    city: accounts.CityRead
    token: TokenRead


class Credentials(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "jordan.lee@springfield.gov", "password": "correct-horse-battery"}]})

    email: EmailStr
    password: str = Field(min_length=1)


class MeRead(BaseModel):
    user: accounts.UserRead
    city: accounts.CityRead | None = None


@router.post("/cities", status_code=status.HTTP_201_CREATED, response_model=Registered, tags=["accounts"],
             summary="Register a city",
             description="Registers the city and its first staff account (the contact), derives the region and "
                         "population band, and returns a token for that account.",
             responses=problems(p409="the city or the email is already registered",
                                p422="invalid input (field and reason)"))
async def register_city(data: accounts.CityCreate, request: Request) -> Registered:
    rt = _rt(request)
    async with rt.db.transaction() as session:
        city, user = await accounts.register_city(session, data)
        principal = accounts.principal_for(user)
    token = issue_token(principal, rt.settings.auth)
    return Registered(
        city=accounts.CityRead.model_validate(city, from_attributes=True),
        token=TokenRead(access_token=token, role=principal.role, city_id=city.id),
    )


@router.post("/auth/token", response_model=TokenRead, tags=["accounts"], summary="Sign in",
             description="Exchanges email and password for a bearer token (JWT). City staff, auditors and "
                         "operators all sign in here.",
             responses=problems(p401="the email or password is not correct"))
async def sign_in(creds: Credentials, request: Request) -> TokenRead:
    rt = _rt(request)
    async with rt.db.sessionmaker() as session:
        user = await accounts.authenticate(session, creds.email, creds.password)
    principal = accounts.principal_for(user)
    return TokenRead(access_token=issue_token(principal, rt.settings.auth), role=principal.role, city_id=user.city_id)


@router.get("/me", response_model=MeRead, tags=["accounts"], summary="The signed-in user (and city)",
            responses=AUTH)
async def me(principal: CurrentPrincipal, request: Request) -> MeRead:
    from services.intake.models import City, User

    async with _rt(request).db.sessionmaker() as session:
        user = await session.get(User, principal.sub)
        if user is None:
            raise ProblemError(404, "Not found", "this account no longer exists")
        city = await session.get(City, user.city_id) if user.city_id else None
    return MeRead(user=accounts.UserRead.model_validate(user),
                  city=accounts.CityRead.model_validate(city) if city else None)


@router.get("/cities/{city_id}", response_model=accounts.CityRead, tags=["accounts"], summary="A city",
            responses={**AUTH, **problems(p404="no such city (or another city's)")})
async def get_city(city_id: str, principal: CurrentPrincipal, request: Request) -> accounts.CityRead:
    async with _rt(request).db.sessionmaker() as session:
        return accounts.CityRead.model_validate(await accounts.get_city(session, principal, city_id))


@router.get("/cities/{city_id}/users", response_model=list[accounts.UserRead], tags=["accounts"],
            summary="The city's staff accounts", responses={**AUTH, **problems(p404="no such city")})
async def list_city_users(city_id: str, principal: CurrentPrincipal, request: Request) -> list[accounts.UserRead]:
    async with _rt(request).db.sessionmaker() as session:
        users = await accounts.list_city_users(session, principal, city_id)
    return [accounts.UserRead.model_validate(u) for u in users]


@router.post("/cities/{city_id}/users", status_code=status.HTTP_201_CREATED, response_model=accounts.UserRead,
             tags=["accounts"], summary="Add a staff member to the city",
             description="A city's staff member adds a colleague, who signs in with the email and password "
                         "given here. Several staff may edit the same draft (see optimistic concurrency).",
             responses={**AUTH, **problems(p404="no such city (or another city's)",
                                           p409="an account with this email already exists",
                                           p422="invalid input")})
async def add_city_user(city_id: str, data: accounts.StaffCreate, principal: CityUser,
                        request: Request) -> accounts.UserRead:
    async with _rt(request).db.transaction() as session:
        user = await accounts.add_city_user(session, principal, city_id, data)
        await session.flush()
        return accounts.UserRead.model_validate(user)


# --- Data Snapshot ----------------------------------------------------------------------------


@router.get("/snapshot/questions", response_model=list[snapshot.SnapshotQuestionRead], tags=["snapshot"],
            summary="The Data Snapshot's questions",
            description="The screening questions of the current catalog, each with its practice area.")
async def snapshot_questions(request: Request, lang: str = Query("en", pattern="^(en|es|pt)$")):
    return snapshot.questions(load_catalog(_opts(request).catalog_version), lang)


@router.post("/snapshots/{cycle}", status_code=status.HTTP_201_CREATED, response_model=snapshot.SnapshotRead,
             tags=["snapshot"], summary="Answer the Data Snapshot (once per cycle)",
             description="Records the answers and returns the result at once: what the city already does, what "
                         "is missing (per question, with its practice area) and whether it may go on to the full "
                         "Assessment (population and country, from the catalog).",
             responses={**AUTH, **problems(p409="already answered for this cycle",
                                           p422="a question is missing or unknown")})
async def take_snapshot(cycle: str, data: snapshot.SnapshotCreate, principal: CityUser, request: Request,
                        lang: str = Query("en", pattern="^(en|es|pt)$")) -> snapshot.SnapshotRead:
    opts = _opts(request)
    async with _rt(request).db.transaction() as session:
        snap, city = await snapshot.take(session, city_id=principal.city_id or "", cycle=_check_cycle(cycle),
                                         catalog_version=opts.catalog_version, data=data)
    return snapshot.read(load_catalog(snap.catalog_version), snap, city, lang)


@router.get("/snapshots/{cycle}", response_model=snapshot.SnapshotRead, tags=["snapshot"],
            summary="The city's Data Snapshot result for a cycle",
            responses={**AUTH, **problems(p404="not answered yet")})
async def get_snapshot(cycle: str, principal: CityUser, request: Request,
                       lang: str = Query("en", pattern="^(en|es|pt)$")) -> snapshot.SnapshotRead:
    async with _rt(request).db.sessionmaker() as session:
        snap, city = await snapshot.get(session, principal.city_id or "", cycle)
    return snapshot.read(load_catalog(snap.catalog_version), snap, city, lang)


# --- assessment drafts ------------------------------------------------------------------------


@router.post("/assessments/{cycle}", response_model=drafts.AssessmentRead, status_code=status.HTTP_201_CREATED,
             tags=["assessment"], summary="Start the cycle's assessment draft",
             description="One draft per city and cycle, on the catalog version current now. Needs an eligible "
                         "Data Snapshot for the cycle. Starting again returns the existing draft (200).",
             responses={**AUTH, **problems(p409="no Data Snapshot yet, or the city is not eligible")})
async def start_draft(cycle: str, principal: CityUser, request: Request,
                      response: HTTPResponse) -> drafts.AssessmentRead:
    opts = _opts(request)
    async with _rt(request).db.transaction() as session:
        assessment, created = await drafts.start(session, city_id=principal.city_id or "", cycle=_check_cycle(cycle),
                                                 catalog_version=opts.catalog_version)
        body = await drafts.read(session, assessment)
    if not created:
        response.status_code = status.HTTP_200_OK
    return body


@router.get("/assessments/{cycle}", response_model=drafts.AssessmentRead, tags=["assessment"],
            summary="The cycle's assessment: every criterion's response, narrative, version and evidence",
            responses={**AUTH, **problems(p404="no draft for this cycle")})
async def get_draft(cycle: str, principal: CityUser, request: Request) -> drafts.AssessmentRead:
    async with _rt(request).db.sessionmaker() as session:
        return await drafts.read(session, await drafts.get(session, principal.city_id or "", cycle))


@router.get("/assessments/{cycle}/progress", response_model=drafts.ProgressRead, tags=["assessment"],
            summary="Progress per practice area",
            description="Answered of total, and YES with and without evidence, per area; plus what still stops "
                        "a submission.",
            responses={**AUTH, **problems(p404="no draft for this cycle")})
async def get_progress(cycle: str, principal: CityUser, request: Request) -> drafts.ProgressRead:
    async with _rt(request).db.sessionmaker() as session:
        return await drafts.progress(session, await drafts.get(session, principal.city_id or "", cycle))


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    try:
        return int(raw)
    except ValueError:
        raise ProblemError(422, "Invalid input", "If-Match must carry the version you read, e.g. \"3\"",
                           errors=[{"field": "If-Match", "reason": "not a version"}]) from None


@router.get("/assessments/{cycle}/responses/{criterion_id}", response_model=drafts.ResponseRead,
            tags=["assessment"], summary="One criterion's response (with its version as ETag)",
            responses={**AUTH, **problems(p404="no draft or no such criterion")})
async def get_response(cycle: str, criterion_id: str, principal: CityUser, request: Request,
                       response: HTTPResponse) -> drafts.ResponseRead:
    async with _rt(request).db.sessionmaker() as session:
        body = await drafts.response_read(session, await drafts.get(session, principal.city_id or "", cycle),
                                          criterion_id)
    response.headers["ETag"] = f'"{body.version}"'
    return body


@router.put("/assessments/{cycle}/responses/{criterion_id}", response_model=drafts.ResponseRead,
            tags=["assessment"], summary="Save one criterion (optimistic concurrency)",
            description="Send the `version` you read (0 for a criterion never saved), in the body or as "
                        "`If-Match: \"<version>\"`. If someone saved it since, the answer is 409 naming the "
                        "criterion, the current version and who changed it: nothing is overwritten silently.",
            responses={**AUTH, **problems(p404="no draft or no such criterion",
                                          p409="stale version (edit conflict) or the assessment was submitted",
                                          p422="invalid input", p428="no version sent")})
async def save_response(cycle: str, criterion_id: str, data: drafts.ResponseUpdate, principal: CityUser,
                        request: Request, response: HTTPResponse,
                        if_match: Annotated[str | None, Header()] = None) -> drafts.ResponseRead:
    expected = data.version if data.version is not None else _if_match(if_match)
    async with _rt(request).db.transaction() as session:
        assessment = await drafts.get(session, principal.city_id or "", cycle)
        await drafts.save_response(session, assessment=assessment, criterion_id=criterion_id, data=data,
                                   expected_version=expected, user_id=principal.sub)
        body = await drafts.response_read(session, assessment, criterion_id)
    response.headers["ETag"] = f'"{body.version}"'
    return body


@router.put("/assessments/{cycle}/responses", tags=["assessment"], summary="Import many responses at once",
            description="Saves many responses (e.g. from a spreadsheet); links become evidence. Starts the draft "
                        "if needed (the city must be eligible). Replaces what it names without a version check.",
            responses={**AUTH, **problems(p409="already submitted, or not eligible", p422="unknown criteria")})
async def import_responses(cycle: str, body: drafts.BulkResponses, principal: CityUser, request: Request) -> dict:
    opts = _opts(request)
    async with _rt(request).db.transaction() as session:
        assessment = await drafts.import_responses(session, city_id=principal.city_id or "", cycle=_check_cycle(cycle),
                                                   catalog_version=opts.catalog_version, data=body,
                                                   user_id=principal.sub)
    return {"assessment_id": assessment.id, "saved": len(body.responses)}


@router.get("/assessments/{cycle}/carry-over", response_model=drafts.CarryOverProposal, tags=["assessment"],
            summary="The previous cycle's answers, offered as a starting point",
            responses={**AUTH, **problems(p404="no draft, or no earlier assessment")})
async def carry_over_proposal(cycle: str, principal: CityUser, request: Request,
                              from_cycle: str | None = None) -> drafts.CarryOverProposal:
    async with _rt(request).db.sessionmaker() as session:
        assessment = await drafts.get(session, principal.city_id or "", cycle)
        return await drafts.carry_over_proposal(session, assessment, from_cycle)


@router.post("/assessments/{cycle}/carry-over", response_model=drafts.CarryOverResult, tags=["assessment"],
             summary="Copy the previous cycle's responses and narratives into the draft",
             description="Evidence files are not copied. Criteria already answered in the draft are kept unless "
                         "`overwrite` is true.",
             responses={**AUTH, **problems(p404="no draft, or no earlier assessment", p409="already submitted")})
async def carry_over(cycle: str, data: drafts.CarryOverApply, principal: CityUser,
                     request: Request) -> drafts.CarryOverResult:
    async with _rt(request).db.transaction() as session:
        assessment = await drafts.get(session, principal.city_id or "", cycle)
        return await drafts.carry_over(session, assessment=assessment, data=data, user_id=principal.sub)


# --- evidence ---------------------------------------------------------------------------------

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "Either `multipart/form-data` with the file in the field `file` (and an optional `title`), "
                       "or the raw file as the body with its `Content-Type` and `X-Filename` headers (optional "
                       "`X-Title`). Both are streamed to storage, never held whole in memory.",
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"}, "title": {"type": "string"}}}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    },
}
UPLOAD_DESCRIPTION = (
    "Streams the file to object storage under a server-generated key and records its SHA-256, size and "
    "type. The type is sniffed from the content (PDF, DOCX, XLSX, CSV, PNG, JPEG, TXT) and must agree with "
    "the file name's extension. Limits: `max_file_mb` per file, `max_submission_mb` per submission. A refused "
    "file leaves nothing behind."
)
UPLOAD_ERRORS = problems(
    p404="no draft or no such criterion", p409="the assessment was submitted",
    p413="the file or the submission is over its size limit",
    p415="a file type that is not accepted (by name or by content)",
    p422="empty file, or content that does not match the name",
)


@router.post("/assessments/{cycle}/criteria/{criterion_id}/files", status_code=status.HTTP_201_CREATED,
             response_model=drafts.EvidenceRead, tags=["evidence"], summary="Upload an evidence file",
             description=UPLOAD_DESCRIPTION, openapi_extra=UPLOAD_BODY, responses={**AUTH, **UPLOAD_ERRORS})
async def upload_file(cycle: str, criterion_id: str, principal: CityUser, request: Request) -> drafts.EvidenceRead:
    ev = await evidence.add_file(_rt(request), _opts(request), principal, cycle, criterion_id, request)
    return drafts.EvidenceRead.model_validate(ev)


@router.post("/assessments/{cycle}/criteria/{criterion_id}/links", status_code=status.HTTP_201_CREATED,
             response_model=drafts.EvidenceRead, tags=["evidence"], summary="Add a link as evidence",
             responses={**AUTH, **problems(p404="no draft or no such criterion", p409="the assessment was submitted",
                                           p422="not an http(s) URL")})
async def add_link(cycle: str, criterion_id: str, data: evidence.LinkCreate, principal: CityUser,
                   request: Request) -> drafts.EvidenceRead:
    async with _rt(request).db.transaction() as session:
        ev = await evidence.add_link(session, principal, cycle, criterion_id, data)
        return drafts.EvidenceRead.model_validate(ev)


@router.get("/assessments/{cycle}/evidence", response_model=list[drafts.EvidenceRead], tags=["evidence"],
            summary="List the assessment's evidence", responses={**AUTH, **problems(p404="no draft")})
async def list_evidence(cycle: str, principal: CityUser, request: Request,
                        criterion_id: str | None = None) -> list[drafts.EvidenceRead]:
    async with _rt(request).db.sessionmaker() as session:
        items = await evidence.list_for_draft(session, principal, cycle, criterion_id)
    return [drafts.EvidenceRead.model_validate(e) for e in items]


@router.get("/evidence/{evidence_id}/link", response_model=evidence.DownloadLink, tags=["evidence"],
            summary="A short-lived download link for a file",
            description="The link carries a signed token and works without sign-in until `expires_at` "
                        "(`download_link_minutes`); then it answers 410.",
            responses={**AUTH, **problems(p404="no such evidence (or another city's)", p409="the evidence is a link")})
async def evidence_link(evidence_id: str, principal: CurrentPrincipal, request: Request) -> evidence.DownloadLink:
    return await evidence.download_link(_rt(request), _opts(request), principal, evidence_id, str(request.base_url))


@router.get("/evidence/{evidence_id}/download", tags=["evidence"], summary="Download a file (signed link)",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file, streamed"},
                       **problems(p403="the link is not valid", p404="the file was removed",
                                  p410="the link has expired")})
async def download(evidence_id: str, request: Request, token: str = Query(...)) -> StreamingResponse:
    ev, chunks = await evidence.open_download(_rt(request), evidence_id, token)
    name = ev.filename or "evidence"
    return StreamingResponse(chunks, media_type=ev.content_type or "application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "Content-Length": str(ev.size), "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
    })


@router.delete("/evidence/{evidence_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["evidence"],
               summary="Remove evidence while in draft (the stored file too)",
               responses={**AUTH, **problems(p404="no such evidence (or another city's)",
                                             p409="the assessment was submitted")})
async def remove_evidence(evidence_id: str, principal: CityUser, request: Request) -> HTTPResponse:
    await evidence.remove(_rt(request), principal, evidence_id)
    return HTTPResponse(status_code=status.HTTP_204_NO_CONTENT)


# --- submissions ------------------------------------------------------------------------------


@router.post("/assessments/{cycle}/submit", status_code=status.HTTP_201_CREATED,
             response_model=submissions.SubmissionRead, tags=["submission"], summary="Submit the assessment",
             description="Checks completeness (every criterion answered; every YES with evidence where the "
                         "catalog asks for it) and lists what is missing; freezes an immutable snapshot; "
                         "publishes `wwc.intake.submission.submitted`; starts the CertificationWorkflow. "
                         "Submitting again returns the same submission (200).",
             responses={**AUTH, **problems(p404="no draft for this cycle",
                                           p422="incomplete: `errors` lists each criterion and what it lacks")})
async def submit(cycle: str, principal: CityUser, request: Request,
                 response: HTTPResponse) -> submissions.SubmissionRead:
    sub, created = await submissions.submit(_rt(request), city_id=principal.city_id or "", cycle=cycle,
                                            user_id=principal.sub, review_mode=_opts(request).review_mode)
    if not created:
        response.status_code = status.HTTP_200_OK
    return submissions.read(sub)


@router.get("/submissions", response_model=list[submissions.SubmissionRead], tags=["submission"],
            summary="The city's submissions (auditors and operators: all)", responses=AUTH)
async def list_submissions(principal: CurrentPrincipal, request: Request,
                           cycle: str | None = None) -> list[submissions.SubmissionRead]:
    async with _rt(request).db.sessionmaker() as session:
        return [submissions.read(s) for s in await submissions.list_for(session, principal, cycle)]


async def load_submission(request: Request, submission_id: str, principal: Principal):
    async with _rt(request).db.sessionmaker() as session:
        return await submissions.visible(session, principal, submission_id)


@router.get("/submissions/{submission_id}", response_model=submissions.SubmissionRead, tags=["submission"],
            summary="A submission with its live workflow status",
            responses={**AUTH, **problems(p404="no such submission (or another city's)")})
async def get_submission(submission_id: str, principal: CurrentPrincipal,
                         request: Request) -> submissions.SubmissionRead:
    sub = await load_submission(request, submission_id, principal)
    rt = _rt(request)
    wf = await submissions.workflow_status(rt.temporal_client, sub.workflow_id) if rt.temporal_client else None
    return submissions.read(sub, wf)


@router.get("/submissions/{submission_id}/frozen", response_model=submissions.FrozenRead, tags=["submission"],
            summary="The frozen snapshot: responses, narratives and the evidence manifest with hashes",
            responses={**AUTH, **problems(p404="no such submission (or another city's)")})
async def get_frozen(submission_id: str, principal: CurrentPrincipal, request: Request) -> submissions.FrozenRead:
    sub = await load_submission(request, submission_id, principal)
    return submissions.FrozenRead(submission_id=sub.id, frozen=sub.frozen)


@router.post("/submissions/{submission_id}/withdraw", response_model=submissions.SubmissionRead,
             tags=["submission"], summary="Withdraw before scoring starts",
             description="Reads the workflow's stage first: once scoring has started the answer is 409.",
             responses={**AUTH, **problems(p404="no such submission (or another city's)",
                                           p409="scoring has started: too late to withdraw")})
async def withdraw(submission_id: str, data: submissions.WithdrawalCreate, principal: CityUser,
                   request: Request, response: HTTPResponse) -> submissions.SubmissionRead:
    """200 once the workflow confirms; 202 when it will act at the end of its current step."""
    sub = await load_submission(request, submission_id, principal)
    wf, confirmed = await submissions.withdraw(_rt(request), sub, data)
    if not confirmed:
        response.status_code = status.HTTP_202_ACCEPTED
    sub = await load_submission(request, submission_id, principal)
    return submissions.read(sub, wf)


@router.get("/submissions/{submission_id}/clarifications", response_model=list[clarifications.ClarificationRead],
            tags=["clarification"], summary="Clarification requests: open ones and the answers given",
            responses={**AUTH, **problems(p404="no such submission (or another city's)")})
async def list_clarifications(submission_id: str, principal: CurrentPrincipal,
                              request: Request) -> list[clarifications.ClarificationRead]:
    sub = await load_submission(request, submission_id, principal)
    return await clarifications.list_requests(_rt(request), sub)


@router.post("/submissions/{submission_id}/clarifications/{request_id}/criteria/{criterion_id}/files",
             status_code=status.HTTP_201_CREATED, response_model=drafts.EvidenceRead, tags=["clarification"],
             summary="Upload a file for a clarification request (before answering it)",
             description=UPLOAD_DESCRIPTION + " Only on a criterion the request names, before it is answered "
                                              "and before its due date.",
             openapi_extra=UPLOAD_BODY,
             responses={**AUTH, **UPLOAD_ERRORS, **problems(
                 p404="no such submission or open request", p409="answered or past its due date",
                 p422="a criterion the request does not name, or a bad file")})
async def upload_clarification_file(submission_id: str, request_id: str, criterion_id: str, principal: CityUser,
                                    request: Request) -> drafts.EvidenceRead:
    sub = await load_submission(request, submission_id, principal)
    ev = await clarifications.add_file(_rt(request), _opts(request), principal, sub, request_id, criterion_id,
                                       request)
    return drafts.EvidenceRead.model_validate(ev)


@router.post("/submissions/{submission_id}/clarifications/{request_id}/answer",
             response_model=clarifications.ClarificationRead, status_code=status.HTTP_201_CREATED,
             tags=["clarification"], summary="Answer a clarification request",
             description="A new narrative (and optional links) for each criterion the request names; files "
                         "uploaded for the request go with it. Stored apart from the frozen submission, which never "
                         "changes, and signalled to the workflow.",
             responses={**AUTH, **problems(p404="no such submission or open request",
                                           p409="already answered or past its due date",
                                           p422="a criterion missing or not named by the request")})
async def answer_clarification(submission_id: str, request_id: str, data: clarifications.ClarificationAnswerCreate,
                               principal: CityUser, request: Request) -> clarifications.ClarificationRead:
    sub = await load_submission(request, submission_id, principal)
    return await clarifications.answer(_rt(request), principal, sub, request_id, data)


__all__ = ["Problem", "router", "uploads"]

"""Intake's JSON API under /api/v1 (thin: load or 404, call the use case)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, status
from fastapi import Response as HTTPResponse
from pydantic import BaseModel, EmailStr, Field, HttpUrl
from sqlalchemy import select

from shared.catalog.loader import load_catalog
from shared.contracts.workflows import CertificationStatus
from shared.infra.auth import CurrentPrincipal, Principal, Role, issue_token, require_roles
from shared.infra.http import ProblemError, field_error
from shared.infra.orm import utcnow
from shared.infra.runtime import ServiceRuntime
from services.intake import accounts, submissions
from services.intake.config import IntakeOptions
from services.intake.models import Assessment, City, Evidence, Response, Submission

router = APIRouter(prefix="/api/v1", tags=["intake"])
CityUser = Annotated[Principal, Depends(require_roles(Role.CITY))]


def _rt(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


def _opts(request: Request) -> IntakeOptions:
    return request.app.state.intake_options


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    city_id: str | None = None


class Registered(BaseModel):
    city: accounts.CityRead
    token: TokenRead


class Credentials(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1)


@router.post("/cities", status_code=status.HTTP_201_CREATED, response_model=Registered)
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


@router.post("/auth/token", response_model=TokenRead)
async def sign_in(creds: Credentials, request: Request) -> TokenRead:
    rt = _rt(request)
    async with rt.db.sessionmaker() as session:
        user = await accounts.authenticate(session, creds.email, creds.password)
    principal = accounts.principal_for(user)
    return TokenRead(access_token=issue_token(principal, rt.settings.auth), role=principal.role, city_id=user.city_id)


class ResponseIn(BaseModel):
    response: Literal["YES", "IN_PROGRESS", "NO"]
    narrative: str = Field(default="", max_length=20000)
    links: list[HttpUrl] = Field(default_factory=list, max_length=20)


class BulkResponses(BaseModel):
    responses: dict[str, ResponseIn]


async def _draft(session, principal: Principal, cycle: str, opts: IntakeOptions) -> Assessment:
    assessment = await session.scalar(
        select(Assessment).where(Assessment.city_id == principal.city_id, Assessment.cycle == cycle)
    )
    if assessment is None:
        assessment = Assessment(city_id=principal.city_id, cycle=cycle, catalog_version=opts.catalog_version)
        session.add(assessment)
        await session.flush()
    return assessment


@router.put("/assessments/{cycle}/responses")
async def import_responses(cycle: str, body: BulkResponses, principal: CityUser, request: Request) -> dict:
    """Save many responses at once (e.g. imported from a spreadsheet); links become evidence."""
    rt, opts = _rt(request), _opts(request)
    async with rt.db.transaction() as session:
        assessment = await _draft(session, principal, cycle, opts)
        if assessment.status != "draft":
            raise ProblemError(409, "Already submitted", "A submitted assessment can no longer change.")
        catalog = load_catalog(assessment.catalog_version)
        unknown = [cid for cid in body.responses if catalog.criterion_or_none(cid) is None]
        if unknown:
            raise ProblemError(422, "Invalid input", "unknown criteria",
                               errors=[{"field": f"responses.{c}", "reason": "no such criterion"} for c in unknown])
        for cid, item in body.responses.items():
            row = await session.get(Response, (assessment.id, cid))
            if row is None:
                row = Response(assessment_id=assessment.id, criterion_id=cid, version=0)
                session.add(row)
            row.response, row.narrative = item.response, item.narrative
            row.version = (row.version or 0) + 1
            row.updated_by, row.updated_at = principal.sub, utcnow()
            for url in item.links:
                session.add(Evidence(assessment_id=assessment.id, criterion_id=cid, kind="link",
                                     url=str(url), uploaded_by=principal.sub))
        assessment.updated_at = utcnow()
    return {"assessment_id": assessment.id, "saved": len(body.responses)}


class SubmissionRead(BaseModel):
    id: str
    city_id: str
    cycle: str
    catalog_version: str
    status: str
    workflow_id: str
    submitted_at: str
    workflow: CertificationStatus | None = None


def _read(sub: Submission, wf: CertificationStatus | None = None) -> SubmissionRead:
    return SubmissionRead(id=sub.id, city_id=sub.city_id, cycle=sub.cycle, catalog_version=sub.catalog_version,
                          status=sub.status, workflow_id=sub.workflow_id,
                          submitted_at=sub.submitted_at.isoformat(), workflow=wf)


@router.post("/assessments/{cycle}/submit", status_code=status.HTTP_201_CREATED, response_model=SubmissionRead)
async def submit(cycle: str, principal: CityUser, request: Request, response: HTTPResponse) -> SubmissionRead:
    """Submit the cycle's assessment. Submitting again returns the same submission (200)."""
    rt, opts = _rt(request), _opts(request)
    async with rt.db.transaction() as session:
        assessment = await session.scalar(
            select(Assessment).where(Assessment.city_id == principal.city_id, Assessment.cycle == cycle)
            .with_for_update()
        )
        if assessment is None:
            raise ProblemError(404, "Not found", f"no assessment for cycle {cycle}")
        existing = await session.scalar(select(Submission).where(Submission.assessment_id == assessment.id))
        if existing is None:
            city = await session.get(City, principal.city_id)
            sub = await submissions.freeze(session, assessment, city, principal.sub)
        else:
            sub = existing
    rt.wake_relay()
    if rt.temporal_client is not None:
        await submissions.start_workflow(rt.temporal_client, rt, sub, opts.review_mode)
    if existing is not None:
        response.status_code = status.HTTP_200_OK
    return _read(sub)


async def load_submission(request: Request, submission_id: str, principal: Principal) -> Submission:
    async with _rt(request).db.sessionmaker() as session:
        sub = await session.get(Submission, submission_id)
    # Another city's submission is reported as absent, not forbidden: no probing.
    if sub is None or not principal.can_see_city(sub.city_id):
        raise ProblemError(404, "Not found", f"no submission {submission_id}")
    return sub


@router.get("/submissions/{submission_id}", response_model=SubmissionRead)
async def get_submission(submission_id: str, principal: CurrentPrincipal, request: Request) -> SubmissionRead:
    sub = await load_submission(request, submission_id, principal)
    rt = _rt(request)
    wf = await submissions.workflow_status(rt.temporal_client, sub.workflow_id) if rt.temporal_client else None
    return _read(sub, wf)



"""Reporting's JSON API: reports (metadata, HTML and PDF in any language), the Honor Roll,
verification and the roster (public), the programme's figures. The operators' view is in ops_api.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from services.reporting import programme, roster, verification
from services.reporting.errors import NoCertifiedReport, NotCertified, NotFound, RateLimited
from services.reporting.models import Report
from services.reporting.problems import problems
from services.reporting.renders import Renders, renders_of
from services.reporting.visibility import visible_report, visible_versions
from shared.i18n import Lang
from shared.infra.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.web.deps import Runtime, Session

router = APIRouter(prefix="/api/v1", tags=["reporting"])
Staff = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.AUDITOR))]
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]
ReportRenders = Annotated[Renders, Depends(renders_of)]


async def _visible(runtime, principal: Principal, report_id: str) -> Report:
    """Looked up in a session of its own, closed before anything renders."""
    async with runtime.db.sessionmaker() as session:
        return await visible_report(session, principal, report_id=report_id)


class ReportRead(BaseModel):
    id: str
    submission_id: str
    city_id: str
    city_name: str
    cycle: str
    language: str
    tier: str | None
    verification_code: str | None
    pdf_sha256: str | None
    created_at: datetime
    version: int = 1  # 2 and later: reissued after an appeal
    replaces_id: str | None = None  # the version it replaces


@router.get("/reports/by-submission/{submission_id}/versions", response_model=list[ReportRead],
            summary="Every version of a submission's report, the current (latest) last")
async def report_versions(submission_id: str, principal: CurrentPrincipal, session: Session) -> list[Report]:
    return await visible_versions(session, principal, submission_id)


@router.get("/reports/by-submission/{submission_id}", response_model=ReportRead,
            summary="A submission's current report (its latest version)")
async def report_of_submission(submission_id: str, principal: CurrentPrincipal, session: Session) -> Report:
    return await visible_report(session, principal, submission_id=submission_id)


@router.get("/reports/{report_id}/html", response_class=HTMLResponse, summary="The report as HTML, in a language",
            responses={200: {"content": {"text/html": {}}}})
async def report_html(report_id: str, principal: CurrentPrincipal, runtime: Runtime, renders: ReportRenders,
                      lang: Lang | None = None) -> HTMLResponse:
    report = await _visible(runtime, principal, report_id)
    return HTMLResponse((await renders.rendered(report, lang or report.language, "html")).decode())


@router.get("/reports/{report_id}/pdf", response_class=Response, summary="The report as a tagged PDF, in a language",
            responses={200: {"content": {"application/pdf": {}}}})
async def report_pdf(report_id: str, principal: CurrentPrincipal, runtime: Runtime, renders: ReportRenders,
                     lang: Lang | None = None) -> Response:
    report = await _visible(runtime, principal, report_id)
    pdf = await renders.rendered(report, lang or report.language, "pdf")
    name = f"certification-report-{report.cycle}-{lang or report.language}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the Honor Roll (operators) ----------------------------------------------------------------


class HonorRollUpdate(BaseModel):
    honor_roll: bool


@router.put("/reports/{report_id}/honor-roll", response_model=roster.HonorRollRead,
            summary="Put a certified city on the Honor Roll, or take it off",
            responses=problems(NotFound, NotCertified))
async def set_honor_roll(report_id: str, body: HonorRollUpdate, principal: Operator, runtime: Runtime
                         ) -> roster.HonorRollRead:
    async with runtime.db.transaction() as session:
        return await roster.set_honor_roll(session, principal, report_id, body.honor_roll)


# --- public: verification and the roster ---------------------------------------------------------


@router.get("/verify/{code}", response_model=verification.Verified, summary="Verify a report's code (public)",
            description="A certified report's city, cycle, tier, date issued and the SHA-256 of its issued PDF; "
                        "its version, and for a version an appeal replaced, the version and code that replace it. "
                        "Every other code (unknown, malformed, never issued) answers the same 404 "
                        "`no_certified_report`. Throttled per client (429 `rate_limited` with Retry-After).",
            responses=problems(NoCertifiedReport, RateLimited))
async def verify(code: str, request: Request, session: Session) -> verification.Verified:
    await request.app.state.verify_throttle.hit(request.client.host if request.client else "unknown")
    return await verification.verify(session, code)


@router.get("/roster", response_model=list[roster.RosterEntry], summary="Certified cities (public)",
            description="Certified cities by cycle (newest first) and tier (highest first), with the Honor Roll "
                        "mark; never an applicant, a score or an uncertified city.")
async def roster_list(session: Session, cycle: Annotated[str | None, Query(max_length=16)] = None,
                      tier: Annotated[str | None, Query(max_length=20)] = None) -> list[roster.RosterEntry]:
    return await roster.roster(session, roster.RosterFilter(cycle=cycle, tier=tier))


# --- the programme's figures (operators and auditors) -------------------------------------------


@router.get("/programme", response_model=programme.ProgrammeRead, summary="The programme dashboard's figures",
            description="Built from the events reporting received. `lang` names areas, tiers and reasons.")
async def programme_figures(_: Staff, session: Session, cycle: Annotated[str | None, Query(max_length=16)] = None,
                            lang: Lang = "en") -> programme.ProgrammeRead:
    return await programme.programme(session, cycle=cycle, lang=lang)

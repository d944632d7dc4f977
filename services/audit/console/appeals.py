"""Appeals in the auditor console: the open appeals (a section of the queue and their own
list), an appeal's page (per criterion: the original finding with the auditor's reason,
the city's statement and new evidence, and the decision form), and its sign-off. Only
auditors independent of the review decide and sign off; the page says so to the others."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import HTMLResponse, Response, StreamingResponse

from services.audit import directory
from services.audit.appeals import service as appeals
from services.audit.cases import evidence
from services.audit.cases.evidence import IntakeFiles
from services.audit.console.case import EVIDENCE_CSP
from services.audit.console.console import AUDIT, StaffPage, ensure_auditor, options_of, token_of
from services.audit.errors import (
    AppealIncomplete,
    AppealState,
    ConflictOfInterest,
    DecisionInvalid,
    FourEyes,
    NotFound,
    NotIndependent,
)
from shared.catalog.loader import load_catalog
from shared.web.pages import FieldError, Page

router = AUDIT.router()


def appeal_url(appeal_id: str, tail: str = "") -> str:
    return f"/audit/appeals/{appeal_id}{tail}"


async def open_appeals(page: Page) -> list[appeals.AppealRead]:
    async with page.runtime.db.sessionmaker() as session:
        return [await appeals.read(session, a, page.lang) for a in await appeals.listing(session)
                if a.status != appeals.DECIDED]


@router.get("/appeals")
async def appeals_page(page: StaffPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        items = [await appeals.read(session, a, page.lang) for a in await appeals.listing(session)]
    return page.render("appeals.html", title=page.t("appeals.title"), nav="appeals", items=items)


async def render_appeal(page: Page, appeal_id: str, *, status_code: int = 200,
                        errors: list[FieldError] | None = None, values: dict | None = None) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        appeal = await appeals.by_id(session, appeal_id)
        read = await appeals.read(session, appeal, page.lang)
        names = await directory.names(session, {*read.deciders, read.signed_off_by})
    catalog = load_catalog(appeal.catalog_version or "wwc-2019")
    reasons = [(r.id, catalog.text(r.name, page.lang)) for r in catalog.audit_reasons]
    reason_names = dict(reasons)
    me = page.principal.sub
    independent = page.principal.role.value == "auditor" and me not in set(read.excluded)
    return page.render("appeal.html", status_code=status_code, title=page.t("appeal.title", city=read.city_name),
                       nav="appeals", appeal=read, names=names, reasons=reasons, reason_names=reason_names,
                       can_decide=independent and read.status == appeals.OPEN,
                       can_sign_off=independent and read.status == appeals.SIGNOFF and me not in set(read.deciders),
                       took_part=me in set(read.excluded), decided_it=me in set(read.deciders),
                       errors=errors or [], values=values or {})


@router.get("/appeals/{appeal_id}")
async def appeal_page(appeal_id: str, page: StaffPage) -> HTMLResponse:
    return await render_appeal(page, appeal_id)


@router.post("/appeals/{appeal_id}/criteria/{criterion_id}/decision")
async def decide(appeal_id: str, criterion_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    values = {"criterion_id": criterion_id, "outcome": str(form.get("outcome", "")),
              "reason_code": str(form.get("reason_code", "")), "explanation": str(form.get("explanation", "")).strip()}
    data, errors = page.parse(appeals.AppealDecisionWrite, values, messages="appeal.errors",
                              inputs={k: f"{k}-{criterion_id}" for k in ("outcome", "reason_code", "explanation")})
    if data is None:
        return await render_appeal(page, appeal_id, status_code=422, errors=errors, values={criterion_id: values})
    try:
        async with page.runtime.db.transaction() as session:
            await appeals.decide(session, page.principal, await appeals.by_id(session, appeal_id), data)
    except (NotIndependent, ConflictOfInterest) as exc:
        return await render_appeal(page, appeal_id, status_code=403, errors=[FieldError(None, page.problem(exc))])
    except (AppealState, DecisionInvalid) as exc:
        return await render_appeal(page, appeal_id, status_code=409 if isinstance(exc, AppealState) else 422,
                                   errors=[FieldError(None, page.problem(exc))], values={criterion_id: values})
    page.runtime.wake_relay()
    return page.redirect(appeal_url(appeal_id), done="appeal_decided")


@router.post("/appeals/{appeal_id}/signoff")
async def sign_off(appeal_id: str, page: StaffPage) -> Response:
    await page.form()
    ensure_auditor(page)
    try:
        async with page.runtime.db.transaction() as session:
            await appeals.sign_off(session, page.principal, await appeals.by_id(session, appeal_id))
    except (NotIndependent, ConflictOfInterest, FourEyes) as exc:
        return await render_appeal(page, appeal_id, status_code=403, errors=[FieldError(None, page.problem(exc))])
    except (AppealState, AppealIncomplete) as exc:
        return await render_appeal(page, appeal_id, status_code=409, errors=[FieldError(None, page.problem(exc))])
    page.runtime.wake_relay()
    return page.redirect(appeal_url(appeal_id), done="appeal_signed_off")


@router.get("/appeals/{appeal_id}/evidence/{evidence_id}")
async def appeal_evidence(appeal_id: str, evidence_id: str, page: StaffPage) -> Response:
    """A file the city sent with its appeal, through intake's link, checked against its SHA-256."""
    async with page.runtime.db.sessionmaker() as session:
        appeal = await appeals.by_id(session, appeal_id)
    items = [evidence._view(e, None) for f in appeal.findings for e in f.get("evidence", [])]
    item = next((e for e in items if e.id == evidence_id), None)
    if item is None or item.kind != "file":
        raise NotFound(f"no file {evidence_id} in this appeal")
    files = IntakeFiles.of(page.request.app.state.identity)
    spool = await files.fetch(item, token_of(page), max_bytes=int(options_of(page).preview_max_mb * 1024 * 1024))
    disposition = "inline" if item.preview else "attachment"
    return StreamingResponse(evidence.chunks(spool), media_type=item.content_type or "application/octet-stream",
                             headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''"
                                                             f"{quote(item.filename or 'evidence')}",
                                      "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                                      "Content-Security-Policy": EVIDENCE_CSP, "X-Frame-Options": "SAMEORIGIN"})

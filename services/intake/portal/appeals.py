"""Appealing audited findings from the portal: the completed certification's page offers
"Appeal a finding" while the window is open; this page lists the findings the audit
changed (by name, what was submitted and what the audit found, the auditor's reason),
takes new files per finding, then a statement for each finding appealed. Once filed, it
shows where the appeal stands and, once decided, each outcome and the report that stands."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.responses import HTMLResponse, Response

from services.intake import appeals, evidence
from services.intake.errors import (
    AppealExists,
    AppealNotOpen,
    AppealWindowClosed,
    AssessmentLocked,
    FileRejected,
    NotAppealable,
    NotFound,
)
from services.intake.models import Submission
from services.intake.portal.console import PORTAL, CityPage, options_of, require_submission
from shared.catalog.loader import load_catalog
from shared.web.pages import FieldError, Page, redirect_on

router = PORTAL.router()
URL = "/portal/submission/appeal"


async def _files(page: Page, sub: Submission) -> dict[str, list]:
    async with page.runtime.db.sessionmaker() as session:
        rows = await appeals._files(session, sub)
    out: dict[str, list] = {}
    for ev in rows:
        out.setdefault(ev.criterion_id, []).append(ev)
    return out


async def render_appeal(page: Page, *, status_code: int = 200, errors: list[FieldError] | None = None,
                        values: dict | None = None) -> HTMLResponse:
    sub = await require_submission(page)
    catalog = load_catalog(sub.catalog_version)
    try:
        filed = await appeals.get(page.runtime, sub)
    except NotFound:
        filed = None
    findings = []
    for cid, line in appeals.appealable(sub).items():
        reason = catalog.text(catalog.audit_reason(line.reason_code).name, page.lang) \
            if line.reason_code and catalog.has_audit_reason(line.reason_code) else ""
        name = catalog.text(catalog.criterion(cid), page.lang) if catalog.has_criterion(cid) else cid
        findings.append({"id": cid, "name": name, "line": line, "reason": reason})
    names = {f["id"]: f["name"] for f in findings}
    open_until = appeals.progress.appeal_open_until(sub)
    window_open = filed is None and open_until is not None and datetime.now(UTC) <= open_until
    return page.render("appeal.html", status_code=status_code, title=page.t("appeal.title"), nav="submission",
                       sub=sub, filed=filed, findings=findings, names=names, open_until=open_until,
                       window_open=window_open and bool(findings), files=await _files(page, sub),
                       values=values or {}, errors=errors or [], max_file_mb=f"{options_of(page).max_file_mb:g}")


@router.get("/submission/appeal")
async def appeal_page(page: CityPage) -> HTMLResponse:
    return await render_appeal(page)


@router.post("/submission/appeal/criteria/{criterion_id}/file")
async def appeal_file(criterion_id: str, page: CityPage) -> Response:
    page.check_upload_csrf()
    sub = await require_submission(page)
    try:
        with redirect_on(AppealExists, AppealWindowClosed, AppealNotOpen, to=URL):
            await appeals.add_file(page.runtime, options_of(page), page.principal, sub, criterion_id, page.request)
    except (FileRejected, NotAppealable) as exc:
        status = page.request.app.state.errors[exc.code].status
        return await render_appeal(page, status_code=status,
                                   errors=[FieldError(f"file-{criterion_id}", page.problem(exc))])
    return page.redirect(URL, done="file_added")


@router.post("/submission/appeal/evidence/{evidence_id}/remove")
async def appeal_remove(evidence_id: str, page: CityPage) -> Response:
    await page.form()
    with redirect_on(AssessmentLocked, to=URL):
        await evidence.remove(page.runtime, page.principal, evidence_id)
    return page.redirect(URL, done="evidence_removed")


@router.post("/submission/appeal")
async def file_appeal(page: CityPage) -> Response:
    form = await page.form()
    sub = await require_submission(page)
    changed = appeals.appealable(sub)
    values = {cid: {"chosen": form.get(f"appeal-{cid}") == "yes",
                    "statement": str(form.get(f"statement-{cid}", "")).strip()} for cid in changed}
    errors: list[FieldError] = []
    criteria: list[appeals.AppealedCriterionCreate] = []
    for cid, value in values.items():
        if not value["chosen"]:
            continue
        item, refused = page.parse(appeals.AppealedCriterionCreate, {"criterion_id": cid, "statement": value["statement"]},
                                   messages="appeal.errors", inputs={"statement": f"statement-{cid}"})
        errors += refused
        if item is not None:
            criteria.append(item)
    if not errors and not criteria:
        errors.append(FieldError(None, page.t("appeal.errors.none_chosen")))
    if not errors:
        try:
            await appeals.file(page.runtime, page.principal, sub, appeals.AppealCreate(criteria=criteria))
        except (AppealExists, AppealWindowClosed, AppealNotOpen, NotAppealable) as exc:
            errors.append(FieldError(None, page.problem(exc)))
        else:
            return page.redirect(URL, done="appeal_filed")
    return await render_appeal(page, status_code=409 if errors[0].field is None else 422, errors=errors,
                               values=values)

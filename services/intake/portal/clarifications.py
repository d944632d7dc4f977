"""Answering an auditor's clarification request: files first, then a new narrative per
criterion the request names, before its due date."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from services.intake import clarifications, evidence
from services.intake.errors import (
    AnswerIncomplete,
    AssessmentLocked,
    ClarificationAnswered,
    ClarificationPastDue,
    CriterionNotRequested,
    FileRejected,
    NotFound,
)
from services.intake.models import Submission
from services.intake.portal.console import PORTAL, CityPage, options_of, require_submission
from shared.catalog.loader import load_catalog
from shared.web.pages import FieldError, Page, redirect_on

router = PORTAL.router()


def request_url(request_id: str) -> str:
    return f"/portal/submission/clarifications/{request_id}"


async def find_request(page: Page, sub: Submission, request_id: str) -> clarifications.ClarificationRead:
    for item in await clarifications.list_requests(page.runtime, sub):
        if item.request_id == request_id:
            return item
    raise NotFound(request_id)


async def render_request(page: Page, request_id: str, *, status_code: int = 200,
                         errors: list[FieldError] | None = None, values: dict | None = None) -> HTMLResponse:
    sub = await require_submission(page)
    item = await find_request(page, sub, request_id)
    catalog = load_catalog(sub.catalog_version)
    criteria = [catalog.criterion(cid) for cid in item.criteria if catalog.has_criterion(cid)]
    files: dict[str, list] = {}
    for ev in item.evidence:
        files.setdefault(ev.criterion_id, []).append(ev)
    return page.render("clarification.html", status_code=status_code, title=page.t("clarification.title"),
                       nav="submission", sub=sub, item=item, criteria=criteria, files=files,
                       submitted=sub.frozen.get("responses", {}), values=values or {}, errors=errors or [],
                       max_file_mb=f"{options_of(page).max_file_mb:g}")


@router.get("/submission/clarifications/{request_id}")
async def clarification_page(request_id: str, page: CityPage) -> HTMLResponse:
    return await render_request(page, request_id)


@router.post("/submission/clarifications/{request_id}/criteria/{criterion_id}/file")
async def clarification_file(request_id: str, criterion_id: str, page: CityPage) -> Response:
    page.check_upload_csrf()
    sub = await require_submission(page)
    try:
        # Answered or past its due date meanwhile: the request's page says so.
        with redirect_on(ClarificationAnswered, ClarificationPastDue, to=request_url(request_id)):
            await clarifications.add_file(page.runtime, options_of(page), page.principal, sub, request_id,
                                          criterion_id, page.request)
    except (FileRejected, CriterionNotRequested) as exc:
        status = page.request.app.state.errors[exc.code].status
        return await render_request(page, request_id, status_code=status,
                                    errors=[FieldError(f"file-{criterion_id}", page.problem(exc))])
    return page.redirect(request_url(request_id), done="file_added")


@router.post("/submission/clarifications/{request_id}/evidence/{evidence_id}/remove")
async def clarification_remove(request_id: str, evidence_id: str, page: CityPage) -> Response:
    await page.form()
    with redirect_on(ClarificationAnswered, AssessmentLocked, to=request_url(request_id)):
        await evidence.remove(page.runtime, page.principal, evidence_id)
    return page.redirect(request_url(request_id), done="evidence_removed")


@router.post("/submission/clarifications/{request_id}")
async def answer_clarification(request_id: str, page: CityPage) -> Response:
    form = await page.form()
    sub = await require_submission(page)
    item = await find_request(page, sub, request_id)
    values = {cid: {"narrative": str(form.get(f"narrative-{cid}", "")).strip(),
                    "link": str(form.get(f"link-{cid}", "")).strip()} for cid in item.criteria}
    answers: dict[str, clarifications.CriterionAnswer] = {}
    errors: list[FieldError] = []
    for cid, value in values.items():
        answer, refused = page.parse(clarifications.CriterionAnswer,
                                     {"narrative": value["narrative"], "links": [value["link"]] if value["link"] else []},
                                     messages="clarification.errors", inputs={"narrative": f"narrative-{cid}",
                                                                              "links": f"link-{cid}"}, criterion=cid)
        errors += refused
        if answer is not None:
            answers[cid] = answer
    if not errors:
        try:
            await clarifications.answer(page.runtime, page.principal, sub, request_id,
                                        clarifications.ClarificationAnswerCreate(answers=answers))
        except (ClarificationAnswered, ClarificationPastDue) as exc:
            errors.append(FieldError(None, page.problem(exc)))
        except AnswerIncomplete as exc:
            for err in exc.errors:
                cid = err.get("field", "").removeprefix("answers.")
                errors.append(FieldError(f"narrative-{cid}", page.t("clarification.errors.narrative", criterion=cid)))
        else:
            return page.redirect("/portal/submission", done="clarification_answered")
    return await render_request(page, request_id, status_code=409 if errors[0].field is None else 422,
                                errors=errors, values=values)

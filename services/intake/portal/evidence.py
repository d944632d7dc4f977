"""Evidence on a criterion: upload a file, add a link, remove, open a file."""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.intake import evidence
from services.intake.errors import AssessmentLocked, FileRejected
from services.intake.portal.assessment import AnswerSaved, criterion_url, render_criterion, render_unsaved, save_answer
from services.intake.portal.console import PORTAL, CityPage, cycle_of, options_of
from shared.web.pages import FieldError, redirect_on

router = PORTAL.router()


@router.post("/assessment/criteria/{criterion_id}/evidence/file")
async def upload_file(criterion_id: str, page: CityPage) -> Response:
    """`evidence.add_file` streams the multipart body (spooled, hashed, size-capped) to
    object storage; the page handler never holds the file."""
    page.check_upload_csrf()
    answer: list[AnswerSaved] = []

    async def save_typed_answer(fields: dict[str, str]) -> None:  # before the file is stored
        answer.append(await save_answer(page, criterion_id, fields, only_if_given=True))

    try:
        with redirect_on(AssessmentLocked, to=criterion_url(criterion_id), done="already_submitted"):
            await evidence.add_file(page.runtime, options_of(page), page.principal, cycle_of(page), criterion_id,
                                    page.request, before_store=save_typed_answer)
    except FileRejected as exc:
        status = page.request.app.state.errors[exc.code].status
        saved = answer[0] if answer else None
        return await render_criterion(page, criterion_id, status_code=status,
                                      errors=[FieldError("file", page.problem(exc)), *(saved.errors if saved else [])],
                                      **({"values": saved.values, "conflict": saved.conflict}
                                         if saved and saved.errors else {}))
    if answer and answer[0].errors:  # the file is kept; the answer is shown again as typed
        return await render_unsaved(page, criterion_id, answer[0])
    return page.redirect(criterion_url(criterion_id), done="file_added")


@router.post("/assessment/criteria/{criterion_id}/evidence/link")
async def add_link(criterion_id: str, page: CityPage) -> Response:
    form = await page.form()
    url, title = str(form.get("url", "")).strip(), str(form.get("link_title", "")).strip()
    with redirect_on(AssessmentLocked, to=criterion_url(criterion_id), done="already_submitted"):
        saved = await save_answer(page, criterion_id, form, only_if_given=True)  # first: nothing typed is lost
    try:
        data = evidence.LinkCreate(url=url, title=title)
    except ValidationError as exc:
        bad_title = any(err["loc"] and err["loc"][0] == "title" for err in exc.errors())
        error = (FieldError("link_title", page.t("evidence.errors.title_long")) if bad_title
                 else FieldError("url", page.t("evidence.errors.url")))
        return await render_criterion(page, criterion_id, status_code=422, errors=[error, *saved.errors],
                                      values=saved.values if saved.errors else None, conflict=saved.conflict,
                                      link_url=url, link_title=title)
    with redirect_on(AssessmentLocked, to=criterion_url(criterion_id), done="already_submitted"):
        async with page.runtime.db.transaction() as session:
            await evidence.add_link(session, page.principal, cycle_of(page), criterion_id, data)
    if saved.errors:  # the link is kept; the answer is shown again as typed
        return await render_unsaved(page, criterion_id, saved)
    return page.redirect(criterion_url(criterion_id), done="link_added")


@router.post("/assessment/criteria/{criterion_id}/evidence/{evidence_id}/remove")
async def remove_evidence(criterion_id: str, evidence_id: str, page: CityPage) -> Response:
    await page.form()
    with redirect_on(AssessmentLocked, to=criterion_url(criterion_id), done="already_submitted"):
        await evidence.remove(page.runtime, page.principal, evidence_id)
    return page.redirect(criterion_url(criterion_id), done="evidence_removed")


@router.get("/evidence/{evidence_id}")
async def download_evidence(evidence_id: str, page: CityPage) -> RedirectResponse:
    """Opens a file through a short-lived authorised link (never a permanent URL)."""
    link = await evidence.download_link(page.runtime, options_of(page), page.principal, evidence_id,
                                        str(page.request.base_url))
    return RedirectResponse(link.url, status_code=303)

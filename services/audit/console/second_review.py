"""The blind second review in the console: the case's "Second review" tab — choose a
second reviewer at random, and for that reviewer one form with every criterion (the first
auditor's decisions never shown) — and the resolution of each difference, on the sign-off
page, by an auditor who may approve."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from services.audit.cases import service as cases
from services.audit.console.case import case_context
from services.audit.console.signoff import render_signoff
from services.audit.console.console import AUDIT, StaffPage, case_url, ensure_auditor, options_of, staff_names
from services.audit.errors import (
    AlreadyResolved,
    ConflictOfInterest,
    DecisionInvalid,
    FourEyes,
    NoEligibleAuditor,
    NotDoubleReview,
    NotFound,
    NotSecondReviewer,
    SecondReviewerAssigned,
    WrongState,
)
from services.audit.second_review import service as second_review
from services.audit.signoff import service as signoff
from shared.web.pages import FieldError, Page, redirect_on

router = AUDIT.router()


async def render(page: Page, submission_id: str, *, status_code: int = 200, errors: list[FieldError] | None = None,
                 values: dict | None = None, replace_reason: str = "") -> HTMLResponse:
    ctx = await case_context(page, submission_id)
    case, read = ctx["case"], ctx["read"]
    second = read.second_review
    names = {**ctx["names"], **await staff_names(page, {second.second_reviewer_id})}
    mine = page.principal.sub == case.second_reviewer_id and case.first_review is None
    stored = {d.criterion_id: d for d in second.decisions or []} if mine else {}
    rows = [{"id": c.criterion_id, "area": c.area, "text": c.text, "submitted": c.submitted.value,
             **(values or {}).get(c.criterion_id, {
                 "response": stored[c.criterion_id].response.value if c.criterion_id in stored else c.submitted.value,
                 "reason_code": stored[c.criterion_id].reason_code if c.criterion_id in stored else "",
                 "note": stored[c.criterion_id].note if c.criterion_id in stored else "",
                 "what_would_satisfy": stored[c.criterion_id].what_would_satisfy if c.criterion_id in stored else ""}),
             "saved": c.criterion_id in stored} for c in read.criteria]
    can_assign = page.principal.role.value == "auditor" and case.double_review and not case.second_reviewer_id and case.status in ("queued", "in_review",
                                                                                    "clarification")
    # Anyone who may act on the case replaces a second reviewer who leaves, until disclosure.
    can_replace = page.principal.role.value == "auditor" and ctx["conflict"] is None and case.double_review \
        and bool(case.second_reviewer_id) and case.first_review is None \
        and case.status in ("queued", "in_review", "clarification")
    reasons = [(r.id, ctx["catalog"].text(r.name, page.lang)) for r in ctx["catalog"].audit_reasons] \
        if ctx["catalog"] else []
    catalog = ctx["catalog"]
    areas = [(a.id, catalog.text(a.name, page.lang), [r for r in rows if r["area"] == a.id])
             for a in (catalog.areas if catalog else ())]
    return page.render("second_review.html", areas=[a for a in areas if a[2]], status_code=status_code, title=page.t("second.title"), nav="queue",
                       **{**ctx, "names": names}, second=second, mine=mine, rows=rows, can_assign=can_assign,
                       can_replace=can_replace, replace_reason=replace_reason,
                       reasons=reasons, errors=errors or [])


@router.get("/cases/{submission_id}/second-review")
async def second_review_page(submission_id: str, page: StaffPage) -> HTMLResponse:
    return await render(page, submission_id)


@router.post("/cases/{submission_id}/second-review/assign")
async def assign(submission_id: str, page: StaffPage) -> Response:
    await page.form()
    ensure_auditor(page)
    try:
        with redirect_on(WrongState, to=case_url(submission_id, "/second-review"), done="case_moved"):
            async with page.runtime.db.transaction() as session:
                await second_review.assign(session, page.principal, await cases.by_submission(session, submission_id),
                                           second_review.SecondAssign(), options_of(page).double_review_seed)
    except (NotDoubleReview, NoEligibleAuditor, SecondReviewerAssigned) as exc:
        return await render(page, submission_id, status_code=409, errors=[FieldError(None, page.problem(exc))])
    return page.redirect(case_url(submission_id, "/second-review"), done="second_assigned")


@router.post("/cases/{submission_id}/second-review/replace")
async def replace(submission_id: str, page: StaffPage) -> Response:
    """Another auditor, drawn at random among the eligible (never the one replaced), takes
    over the second review; the reason goes on the trail."""
    form = await page.form()
    ensure_auditor(page)
    reason = str(form.get("reason", "")).strip()
    if not reason or len(reason) > 2000:
        return await render(page, submission_id, status_code=422, replace_reason=reason[:2000],
                            errors=[FieldError("reason", page.t("second.replace_reason_missing"))])
    try:
        with redirect_on(WrongState, to=case_url(submission_id, "/second-review"), done="case_moved"):
            async with page.runtime.db.transaction() as session:
                await second_review.replace(session, page.principal,
                                            await cases.by_submission(session, submission_id),
                                            second_review.SecondReplace(reason=reason),
                                            options_of(page).double_review_seed)
    except (NotDoubleReview, NoEligibleAuditor, ConflictOfInterest, FourEyes) as exc:
        return await render(page, submission_id, status_code=409, replace_reason=reason,
                            errors=[FieldError(None, page.problem(exc))])
    page.runtime.wake_relay()
    return page.redirect(case_url(submission_id, "/second-review"), done="second_replaced")


@router.post("/cases/{submission_id}/second-review")
async def save(submission_id: str, page: StaffPage) -> Response:
    """One area's criteria (a form per area: a page's form takes at most 50 fields), each
    saved on its own: what is valid is kept, what is not comes back with its message."""
    form = await page.form()
    ensure_auditor(page)
    async with page.runtime.db.sessionmaker() as session:
        criteria = [c for c in (await cases.by_submission(session, submission_id)).submitted_responses
                    if f"response-{c}" in form]
    values = {cid: {k: str(form.get(f"{k}-{cid}", "")).strip()
                    for k in ("response", "reason_code", "note", "what_would_satisfy")} for cid in criteria}
    errors: list[FieldError] = []
    for cid, v in values.items():
        if not v["response"]:
            continue
        try:
            data = second_review.BlindWrite(**v)
            with redirect_on(WrongState, NotSecondReviewer, to=case_url(submission_id, "/second-review"),
                             done="case_moved"):
                async with page.runtime.db.transaction() as session:
                    await second_review.decide(session, page.principal,
                                               await cases.by_submission(session, submission_id), cid, data)
        except (ValidationError, DecisionInvalid):
            errors.append(FieldError(f"response-{cid}", page.t("second.invalid", criterion=cid)))
        except (ConflictOfInterest, NotDoubleReview) as exc:
            return await render(page, submission_id, status_code=403, errors=[FieldError(None, page.problem(exc))])
    if errors:
        return await render(page, submission_id, status_code=422, errors=errors, values=values)
    return page.redirect(case_url(submission_id, "/second-review"), done="second_saved")


@router.post("/cases/{submission_id}/second-review/{criterion_id}/resolve")
async def resolve(submission_id: str, criterion_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    try:
        data = second_review.ResolutionWrite(outcome=str(form.get("outcome", "")),
                                             note=str(form.get("note", "")).strip())
    except ValidationError:
        return await render_signoff(page, submission_id, status_code=422,
                                    errors=[FieldError(f"note-{criterion_id}", page.t("second.resolve_invalid"))])
    try:
        with redirect_on(WrongState, NotFound, AlreadyResolved, to=case_url(submission_id, "/signoff"),
                         done="case_moved"):
            async with page.runtime.db.transaction() as session:
                case = await cases.by_submission(session, submission_id)
                locked = await signoff.lock_for_approver(session, page.principal, case, "resolved")
                await second_review.resolve(session, page.principal, locked, criterion_id, data)
    except (FourEyes, ConflictOfInterest, DecisionInvalid) as exc:
        return await render_signoff(page, submission_id, status_code=403 if not isinstance(exc, DecisionInvalid)
                                    else 422, errors=[FieldError(None, page.problem(exc))])
    page.runtime.wake_relay()
    return page.redirect(case_url(submission_id, "/signoff"), done="resolved")

"""The queue: cases by due date and age, filters, claim, assign (one or many), hand back."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from services.audit import directory
from services.audit.cases import service as cases
from services.audit.cases import balance, queue
from services.audit.console.appeals import open_appeals
from services.audit.console.console import AUDIT, StaffPage, case_url, ensure_auditor, options_of
from services.audit.domain import CaseState
from services.audit.errors import CaseTaken, DomainError, UnknownAuditor, WrongState
from shared.catalog.geography import POPULATION_BANDS, REGIONS
from shared.web.pages import FieldError, Page, Redirect, redirect_on

router = AUDIT.router()
FILTERS = ("cycle", "region", "population_band", "state", "status", "assignee")


@router.get("/")
async def home(page: StaffPage) -> Response:
    return page.redirect("/audit/queue")


def _filters(page: Page) -> tuple[queue.QueueFilter, dict]:
    params = page.request.query_params
    chosen = {k: params.get(k, "").strip() for k in FILTERS}
    try:
        f = queue.QueueFilter(**{k: v for k, v in chosen.items() if v and k != "status"},
                              status=[CaseState(chosen["status"])] if chosen["status"] in set(CaseState) else [])
    except ValidationError:
        f, chosen = queue.QueueFilter(), {k: "" for k in FILTERS}
    return f, chosen


async def render_queue(page: Page, *, status_code: int = 200, errors: list[FieldError] | None = None) -> HTMLResponse:
    f, chosen = _filters(page)
    async with page.runtime.db.sessionmaker() as session:
        rows = await queue.cases(session, page.principal, f)
        items = await queue.summaries(session, page.principal, rows, options_of(page))
        facets = await queue.facets(session)
        auditors = await directory.auditors(session)
        work = await balance.loads(session)
    nav = "mine" if chosen["assignee"] == "me" else "signoff" if chosen["status"] == "signoff" else "queue"
    return page.render("queue.html", status_code=status_code, title=page.t(f"queue.title_{nav}"), nav=nav,
                       items=items, chosen=chosen, facets=facets, regions=[r for r in REGIONS if r in facets["region"]]
                       or facets["region"], bands=[b for b in POPULATION_BANDS if b in facets["population_band"]],
                       states=[s.value for s in CaseState], auditors=auditors, work=work,
                       appeals=await open_appeals(page), errors=errors or [])


@router.get("/queue")
async def queue_page(page: StaffPage) -> HTMLResponse:
    return await render_queue(page)


@router.post("/cases/{submission_id}/claim")
async def claim(submission_id: str, page: StaffPage) -> Response:
    await page.form()
    ensure_auditor(page)
    # Someone else was quicker (or the case moved on): back to the queue, which says so.
    with redirect_on(CaseTaken, WrongState, to="/audit/queue", done="taken"):
        async with page.runtime.db.transaction() as session:
            await cases.claim(session, page.principal, await cases.by_submission(session, submission_id))
    page.runtime.wake_relay()
    return page.redirect(case_url(submission_id), done="claimed")


@router.post("/cases/{submission_id}/release")
async def release(submission_id: str, page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    async with page.runtime.db.transaction() as session:
        await cases.release(session, page.principal, await cases.by_submission(session, submission_id),
                            str(form.get("reason", "")).strip()[:2000])
    page.runtime.wake_relay()
    return page.redirect("/audit/queue", done="released")


@router.post("/queue/assign")
async def assign(page: StaffPage) -> Response:
    form = await page.form()
    ensure_auditor(page)
    data, errors = page.parse(cases.AssignCreate, {"submission_ids": [str(v) for v in form.getlist("submission_id")][:200],
                                             "auditor_id": str(form.get("auditor_id", ""))},
                              messages="queue.errors", inputs={"submission_ids": "assign-cases"})
    if data is None:
        return await render_queue(page, status_code=422, errors=errors)
    auditor_id = data.auditor_id
    for submission_id in dict.fromkeys(data.submission_ids):
        name = submission_id
        try:
            async with page.runtime.db.transaction() as session:
                case = await cases.by_submission(session, submission_id)
                name = case.city_name or submission_id
                await cases.assign(session, page.principal, case, auditor_id)
        except UnknownAuditor as exc:
            return await render_queue(page, status_code=422, errors=[FieldError("auditor_id", page.problem(exc))])
        except DomainError as exc:
            errors.append(FieldError(None, page.t("queue.errors.not_assigned", city=name, why=page.problem(exc))))
    page.runtime.wake_relay()
    if errors:
        return await render_queue(page, status_code=409, errors=errors)
    raise Redirect("/audit/queue?done=assigned")


@router.post("/queue/auto-assign")
async def auto_assign(page: StaffPage) -> Response:
    """The selected cases to the least loaded auditors without a conflict; the queue then
    shows who holds each and the balance of everyone's work."""
    form = await page.form()
    ensure_auditor(page)
    data, errors = page.parse(balance.AutoAssignCreate,
                              {"submission_ids": [str(v) for v in form.getlist("submission_id")][:200]},
                              messages="queue.errors", inputs={"submission_ids": "assign-cases"})
    if data is None:
        return await render_queue(page, status_code=422, errors=errors)
    outcomes, _ = await balance.auto_assign(page.runtime.db, page.principal, data)
    page.runtime.wake_relay()
    errors = [FieldError(None, page.t("queue.errors.not_assigned", city=o.city_name, why=page.problem(o.error)))
              for o in outcomes if o.error]
    if errors:
        return await render_queue(page, status_code=409, errors=errors)
    raise Redirect("/audit/queue?done=auto_assigned")

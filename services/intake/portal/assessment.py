"""The assessment draft: overview with progress, start, carry-over, a practice area,
and a criterion's answer form (optimistic concurrency: a colleague's save is never
overwritten silently)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, Response

from services.intake import domain, drafts, progress, snapshot
from services.intake.domain import AssessmentState
from services.intake.errors import (
    AssessmentLocked,
    EditConflict,
    NotEligible,
    NotFound,
    NothingToCarryOver,
    SnapshotNeeded,
)
from services.intake.portal.console import (
    PORTAL,
    CityPage,
    city_id,
    current_assessment,
    cycle_of,
    options_of,
    require_assessment,
)
from shared.catalog import texts as catalog_texts
from shared.catalog.loader import load_catalog
from shared.web.pages import FieldError, Page, redirect_on

router = PORTAL.router()


@router.get("/assessment")
async def assessment_page(page: CityPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        assessment = await current_assessment(page, session)
        if assessment is None:
            snap = await snapshot.find(session, city_id(page), cycle_of(page))
            return page.render("assessment_start.html", title=page.t("assessment.title", cycle=cycle_of(page)),
                               nav="assessment", snapshot=snap, cycle=cycle_of(page))
        catalog = load_catalog(assessment.catalog_version)
        draft_progress = await drafts.progress(session, assessment)
        proposal = None
        if assessment.status == AssessmentState.DRAFT:
            try:
                proposal = await drafts.carry_over_proposal(session, assessment)
            except NothingToCarryOver:
                proposal = None  # no earlier cycle
    copyable = [i for i in proposal.items if i.will_copy] if proposal else []
    return page.render("assessment.html", title=page.t("assessment.title", cycle=assessment.cycle),
                       nav="assessment", assessment=assessment, progress=draft_progress, catalog=catalog,
                       proposal=proposal, copyable=copyable)


@router.post("/assessment/start")
async def start_assessment(page: CityPage) -> Response:
    await page.form()
    # No Data Snapshot yet, or not eligible: the snapshot page says why.
    with redirect_on(SnapshotNeeded, NotEligible, to="/portal/snapshot"):
        async with page.runtime.db.transaction() as session:
            await drafts.start(session, city_id=city_id(page), cycle=cycle_of(page),
                               catalog_version=options_of(page).catalog_version)
    return page.redirect("/portal/assessment", done="assessment_started")


@router.post("/assessment/carry-over")
async def carry_over(page: CityPage) -> Response:
    form = await page.form()
    with redirect_on(AssessmentLocked, to="/portal/assessment", done="already_submitted"), \
            redirect_on(NothingToCarryOver, to="/portal/assessment", done="nothing_carried"):
        async with page.runtime.db.transaction() as session:
            assessment = await require_assessment(page, session)
            result = await drafts.carry_over(
                session, assessment=assessment, user_id=page.principal.sub,
                data=drafts.CarryOverApply(from_cycle=str(form.get("from_cycle") or "") or None),
            )
    return page.redirect("/portal/assessment", done="carried_over" if result.copied else "nothing_carried")


@router.get("/assessment/areas/{area_id}")
async def area_page(area_id: str, page: CityPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        assessment = await require_assessment(page, session)
        view = await drafts.read(session, assessment)
        audited = progress.audited_of(await progress.submission_of(session, assessment))
    catalog = load_catalog(assessment.catalog_version)
    try:
        area = catalog.area(area_id)
    except KeyError:
        raise NotFound(area_id) from None
    by_id = {r.criterion_id: r for r in view.responses}
    rows = [(c, by_id[c.id]) for c in catalog.criteria_in_area(area_id)]
    area_progress = next(a for a in view.progress.areas if a.area == area_id)
    return page.render("area.html", title=catalog.text(area, page.lang), nav="assessment", assessment=assessment,
                       area=area, rows=rows, progress=area_progress, audited=audited,
                       draft=assessment.status == AssessmentState.DRAFT)


def criterion_url(criterion_id: str) -> str:
    return f"/portal/assessment/criteria/{criterion_id}"


async def render_criterion(page: Page, criterion_id: str, *, status_code: int = 200,
                           errors: list[FieldError] | None = None, values: dict | None = None,
                           **extra: Any) -> HTMLResponse:
    """A criterion's page: its text and guidance, the answer form (the saved answer, or
    after a refused save the values the user typed), and its evidence."""
    async with page.runtime.db.sessionmaker() as session:
        assessment = await require_assessment(page, session)
        saved = await drafts.response_read(session, assessment, criterion_id)  # NotFound for an unknown id
        audited = progress.audited_of(await progress.submission_of(session, assessment)).get(criterion_id)
    catalog = load_catalog(assessment.catalog_version)
    crit = catalog.criterion(criterion_id)
    ids = catalog.criterion_ids
    index = ids.index(criterion_id)
    if values is None:
        values = {"response": saved.response or "", "narrative": saved.narrative, "version": saved.version}
    return page.render(
        "criterion.html", status_code=status_code, title=f"{criterion_id} — {page.t('assessment.criterion')}",
        nav="assessment", errors=errors or [], saved=saved, values=values, crit=crit,
        area=catalog.area(crit.area), assessment=assessment, position=index + 1, total=len(ids),
        previous_id=ids[index - 1] if index > 0 else None, next_id=ids[index + 1] if index + 1 < len(ids) else None,
        editable=assessment.status == AssessmentState.DRAFT, max_file_mb=f"{options_of(page).max_file_mb:g}",
        components=[catalog.text(catalog.component(c), page.lang) for c in crit.components],
        audited=audited, reason=catalog_texts.reason(audited.reason_code, page.lang) if audited and audited.changed
        else None, **extra,
    )


@router.get("/assessment/criteria/{criterion_id}")
async def criterion_page(criterion_id: str, page: CityPage) -> HTMLResponse:
    return await render_criterion(page, criterion_id)


@router.post("/assessment/criteria/{criterion_id}")
async def save_criterion(criterion_id: str, page: CityPage) -> Response:
    form = await page.form()
    response = str(form.get("response", ""))
    narrative = str(form.get("narrative", ""))
    version = str(form.get("version", ""))
    data, errors = page.parse(drafts.ResponseUpdate, {"response": response, "narrative": narrative},
                              messages="criterion.errors")
    conflict: dict | None = None
    if data is not None:
        try:
            with redirect_on(AssessmentLocked, to=criterion_url(criterion_id), done="already_submitted"):
                expected = domain.required_version(None, version)
                async with page.runtime.db.transaction() as session:
                    assessment = await require_assessment(page, session)
                    await drafts.save_response(
                        session, assessment=assessment, criterion_id=criterion_id, user_id=page.principal.sub,
                        data=data, expected_version=expected,
                    )
        except EditConflict as exc:
            conflict = exc.params
            errors.append(FieldError("conflict", page.problem(
                exc, updated_by_name=conflict.get("updated_by_name") or "?")))
    if not errors:
        ids = load_catalog(assessment.catalog_version).criterion_ids
        index = ids.index(criterion_id)
        if form.get("action") == "next":
            if index + 1 < len(ids):
                return page.redirect(criterion_url(ids[index + 1]), done="saved_previous")
            return page.redirect("/portal/assessment/submit", done="saved")
        return page.redirect(criterion_url(criterion_id), done="saved")
    # After a conflict the form carries the current version: saving again replaces
    # the colleague's answer knowingly, with the values the user typed.
    values = {"response": response, "narrative": narrative,
              "version": conflict["current_version"] if conflict else version}
    return await render_criterion(page, criterion_id, status_code=409 if conflict else 422, errors=errors,
                                  values=values, conflict=conflict)

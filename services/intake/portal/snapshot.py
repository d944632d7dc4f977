"""The Data Snapshot: eight yes-or-no questions, the result, and eligibility."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from services.intake import domain, snapshot
from services.intake.errors import SnapshotAlreadyTaken
from services.intake.models import City
from services.intake.portal.console import PORTAL, CityPage, catalog_of, city_id, cycle_of, load_city, options_of
from shared.catalog.loader import load_catalog
from shared.catalog.model import Catalog
from shared.web.pages import FieldError, Page

router = PORTAL.router()


def eligibility_reasons(page: Page, catalog: Catalog, city: City) -> list[str]:
    """Why a city may not go on, in the page's language (`domain.eligibility` decides)."""
    found = domain.eligibility(catalog.eligibility, city=city.name, population=city.population,
                               country=city.country)
    out = []
    for reason in found:
        if reason.kind == "population":
            out.append(page.t("snapshot.reason_population", minimum=f"{reason.params['minimum']:,}",
                              city=city.name, population=f"{city.population:,}"))
        else:
            out.append(page.t("snapshot.reason_country", city=city.name, country=reason.params["country"]))
    return out


def area_names(page: Page) -> dict[str, str]:
    catalog = catalog_of(page)
    return {area.id: catalog.text(area, page.lang) for area in catalog.areas}


@router.get("/snapshot")
async def snapshot_page(page: CityPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        snap = await snapshot.find(session, city_id(page), cycle_of(page))
        city = await load_city(page, session)
    if snap is None:
        return page.render("snapshot.html", title=page.t("snapshot.title"), nav="snapshot",
                           questions=catalog_of(page).snapshot, answers={}, city=city, area_names=area_names(page))
    catalog = load_catalog(snap.catalog_version)
    result = snapshot.read(catalog, snap, city, page.lang)
    return page.render("snapshot_result.html", title=page.t("snapshot.result_title"), nav="snapshot",
                       result=result, city=city, reasons=eligibility_reasons(page, catalog, city))


@router.post("/snapshot")
async def take_snapshot(page: CityPage) -> Response:
    form = await page.form()
    answers: dict[str, bool] = {}
    errors = []
    questions = catalog_of(page).snapshot
    for number, question in enumerate(questions, 1):
        value = form.get(question.id)
        if value in ("yes", "no"):
            answers[question.id] = value == "yes"
        else:
            errors.append(FieldError(question.id, page.t("snapshot.errors.unanswered", number=number)))
    if errors:
        async with page.runtime.db.sessionmaker() as session:
            city = await load_city(page, session)
        return page.render("snapshot.html", status_code=422, title=page.t("snapshot.title"), nav="snapshot",
                           questions=questions, city=city, errors=errors, area_names=area_names(page),
                           answers={k: ("yes" if v else "no") for k, v in answers.items()})
    try:
        async with page.runtime.db.transaction() as session:
            await snapshot.take(session, city_id=city_id(page), cycle=cycle_of(page),
                                catalog_version=options_of(page).catalog_version,
                                data=snapshot.SnapshotCreate(answers=answers))
    except SnapshotAlreadyTaken:
        pass  # answered already (a colleague, another tab): the page shows that result
    return page.redirect("/portal/snapshot", done="snapshot_taken")

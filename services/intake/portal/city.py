"""The city's settings: its state or province (from its country's ISO 3166-2 list), the
time zone its calls and dates are shown in, and the language of its mail and report."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from fastapi.responses import HTMLResponse, Response

from services.intake import accounts
from services.intake.errors import UnknownState
from services.intake.portal.console import PORTAL, CityPage, city_id, load_city
from shared.catalog import places
from shared.i18n import language_name, languages
from shared.web.pages import FieldError, Page

router = PORTAL.router()


@cache
def zones() -> list[str]:
    """The time zones of the programme's part of the world, by name."""
    return sorted(z for z in available_timezones()
                  if z.startswith("America/") or z in ("Atlantic/Bermuda", "Atlantic/Stanley", "Pacific/Honolulu"))


async def render(page: Page, *, status_code: int = 200, values: dict | None = None,
                 errors: list[FieldError] | None = None) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        city = await load_city(page, session)
    values = values or {"state": city.state, "timezone": city.timezone, "language": city.language}
    # The city's own country's states: a list that needs no script.
    state_groups = [(city.country, None, places.choices(city.country, page.lang))]
    return page.render("city.html", status_code=status_code, title=page.t("city.title"), nav="home", city=city,
                       state_groups=state_groups,
                       zones=zones(), language_choices=[(code, language_name(code)) for code in languages()],
                       values=values, errors=errors or [])


@router.get("/city")
async def city_page(page: CityPage) -> HTMLResponse:
    return await render(page)


@router.post("/city")
async def save_city(page: CityPage) -> Response:
    form = await page.form()
    values = {"timezone": str(form.get("timezone", "")), "language": str(form.get("language", ""))}
    if "state" in form:  # a country without states has no list
        values["state"] = str(form.get("state", ""))
    data, errors = page.parse(accounts.CityUpdate, values, messages="city.errors")
    if data is None:
        return await render(page, status_code=422, values=values, errors=errors)
    try:
        async with page.runtime.db.transaction() as session:
            await accounts.update_city(session, page.principal, city_id(page), data)
    except UnknownState as exc:
        return await render(page, status_code=422, values=values,
                            errors=[FieldError("state", page.problem(exc))])
    page.runtime.wake_relay()
    return page.redirect("/portal/home", done="city_saved")

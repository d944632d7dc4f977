"""The city's settings page: its facts (name, country, state or province, population),
corrected with a reason until the assessment is submitted (then read-only: the programme
corrects them), every correction so far, and its settings (the time zone its calls and
dates are shown in, and the language of its mail and report)."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from services.intake import accounts, city_facts
from services.intake.errors import CityAlreadyRegistered, CityFactsLocked, IneligibleCity, UnknownState
from services.intake.portal.accounts import countries, parse_population, state_groups
from services.intake.portal.console import PORTAL, CityPage, catalog_of, city_id, load_city
from shared.catalog import places
from shared.catalog.timezones import resolve_zone, zone_choices
from shared.i18n import language_name, languages
from shared.web.pages import FieldError, Page

router = PORTAL.router()
FACT_FIELDS = ("name", "country", "state", "population", "reason")


async def render(page: Page, *, status_code: int = 200, values: dict | None = None,
                 errors: list[FieldError] | None = None, facts: dict | None = None,
                 fact_errors: list[FieldError] | None = None) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        city = await load_city(page, session)
        locked = await city_facts.submitted(session, city.id)
        history = await city_facts.history(session, page.principal, city.id)
    values = values or {"timezone": city.timezone, "language": city.language}
    facts = facts or {"name": city.name, "country": city.country, "state": city.state,
                      "population": page.t.number(city.population), "reason": ""}
    known = {code for code, _ in countries(page)}
    country = facts.get("country", "").upper()
    return page.render("city.html", status_code=status_code, title=page.t("city.title"), nav="home", city=city,
                       locked=locked, history=history, facts=facts, errors=(errors or []) + (fact_errors or []),
                       countries=countries(page), fact_changes=lambda changes: fact_changes(page, changes),
                       minimum=catalog_of(page).eligibility.min_population,
                       state_groups=state_groups(page, country if country in known else ""),
                       zones=zone_choices(page.lang, current=values.get("timezone")),
                       language_choices=[(code, language_name(code)) for code in languages()],
                       values=values)


def fact_value(page: Page, fact: str, value) -> str:
    if fact == "population":
        return page.t.number(value)
    if fact == "country":
        return page.t(f"countries.{value}")
    if fact == "state":
        return places.name(value, page.lang) if value else page.t("city.no_state")
    return str(value)


def fact_changes(page: Page, changes: dict) -> str:
    """"population 25,000 → 31,000; name Riverton → Riverton City", in the page's language."""
    return "; ".join(page.t("city.fact_change", fact=page.t(f"city.facts.{fact}"),
                            old=fact_value(page, fact, change["old"]), new=fact_value(page, fact, change["new"]))
                     for fact, change in changes.items() if fact in city_facts.FACTS)


@router.get("/city")
async def city_page(page: CityPage) -> HTMLResponse:
    return await render(page)


@router.post("/city")
async def save_city(page: CityPage) -> Response:
    form = await page.form()
    values = {"timezone": str(form.get("timezone", "")), "language": str(form.get("language", ""))}
    async with page.runtime.db.sessionmaker() as session:
        current = (await load_city(page, session)).timezone
    zone = resolve_zone(values["timezone"], page.lang, current=current)
    data, errors = page.parse(accounts.CityUpdate, {**values, "timezone": zone or "-"}, messages="city.errors")
    if data is None:
        return await render(page, status_code=422, values=values, errors=errors)
    async with page.runtime.db.transaction() as session:
        await accounts.update_city(session, page.principal, city_id(page), data)
    page.runtime.wake_relay()
    return page.redirect("/portal/home", done="city_saved")


@router.post("/city/facts")
async def correct_facts(page: CityPage) -> Response:
    form = await page.form()
    facts = {name: str(form.get(name, "")).strip() for name in FACT_FIELDS}
    if form.get("action") == "choose_country":  # no scripts: the chosen country's states
        if places.normalise(facts["country"], facts["state"]) is None:
            facts["state"] = ""
        return await render(page, facts=facts)
    data, errors = page.parse(city_facts.CityFactsUpdate,
                              {**facts, "population": parse_population(facts["population"])},
                              messages="city.facts_errors")
    if data is not None:
        try:
            async with page.runtime.db.transaction() as session:
                await city_facts.change(session, page.principal, city_id(page), data,
                                        eligibility=catalog_of(page).eligibility)
        except (UnknownState, CityAlreadyRegistered) as exc:
            errors.append(FieldError(exc.field or "name", page.problem(exc)))
        except IneligibleCity as exc:  # said beside the population or the country
            kind = exc.errors[0]["field"]
            params = {k: page.t.number(v) if isinstance(v, int) else v for k, v in exc.params.items()}
            errors.append(FieldError(kind, page.t(f"register.errors.ineligible_{kind}", **params)))
        except CityFactsLocked:  # submitted meanwhile: the page now says who can correct them
            return page.redirect("/portal/city")
        else:
            page.runtime.wake_relay()
            return page.redirect("/portal/city", done="facts_saved")
    order = {name: i for i, name in enumerate(FACT_FIELDS)}
    errors.sort(key=lambda e: order.get(e.field or "", 99))
    return await render(page, status_code=422, facts=facts, fact_errors=errors)

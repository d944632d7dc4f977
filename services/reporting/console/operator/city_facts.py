"""An operator corrects a city's facts (name, country, state or province, population) with a
reason, at any time: after submission only the programme may. Intake owns the city, so
this page reads and writes it through intake's API with the operator's own token (the
same rules, record and events as any other caller); reporting stores nothing of it."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from services.reporting.console.operator.console import OPERATOR, OperatorPage
from shared.catalog import places
from shared.catalog.loader import load_catalog
from shared.web.intake_api import IntakeApi
from shared.web.pages import FieldError, Page

router = OPERATOR.router()
FIELDS = ("name", "country", "state", "population", "reason")
FACTS = ("name", "country", "state", "population")
# The programme's countries (the catalog's eligibility list; the rules themselves are intake's).
CATALOG_VERSION = "wwc-2019"


def countries(page: Page) -> list[tuple[str, str]]:
    codes = load_catalog(CATALOG_VERSION).eligibility.countries
    return sorted(((c, page.t(f"countries.{c}")) for c in codes), key=lambda item: item[1])


def fact_value(page: Page, fact: str, value) -> str:
    if fact == "population" and isinstance(value, int):
        return page.t.number(value)
    if fact == "country" and value:
        return page.t(f"countries.{value}")
    if fact == "state":
        return places.name(value, page.lang) if value else page.t("facts.no_state")
    return str(value)


def history_text(page: Page, change: dict) -> str:
    facts = "; ".join(page.t("facts.change", fact=page.t(f"facts.names.{f}"), old=fact_value(page, f, c["old"]),
                             new=fact_value(page, f, c["new"]))
                      for f, c in change["changes"].items() if f in FACTS)
    return page.t("facts.history_item", changes=facts, who=change["changed_by_name"], reason=change["reason"])


def field_errors(page: Page, problem: dict) -> list[FieldError]:
    """Intake's problem+json as messages beside the fields, in the page's language."""
    code = problem.get("code", "")
    found = []
    for error in problem.get("errors") or [{"field": None}]:
        field = error.get("field") if error.get("field") in FIELDS else None
        if code == "ineligible_city":
            params = {k: page.t.number(v) if isinstance(v, int) else v for k, v in problem.items()
                      if k in ("minimum", "population", "city", "country")}
            message = page.t(f"facts.errors.ineligible_{field}", **params)
        elif code == "invalid_input" and field:
            message = page.t(f"facts.errors.{field}")
        elif page.t.has(f"facts.errors.{code}"):
            message = page.t(f"facts.errors.{code}")
        else:
            message = page.t("facts.errors.refused")
        found.append(FieldError(field, message))
    return found


async def render(page: Page, city_id: str, submission: str, *, facts: dict | None = None,
                 errors: list[FieldError] | None = None, status_code: int = 200) -> HTMLResponse:
    intake = IntakeApi(page)
    city = await intake.get(f"/api/v1/cities/{city_id}")
    history = await intake.get(f"/api/v1/cities/{city_id}/facts/changes")
    facts = facts or {"name": city["name"], "country": city["country"], "state": city["state"],
                      "population": page.t.number(city["population"]), "reason": ""}
    country = (facts.get("country") or "").upper()
    return page.render("operator_city_facts.html", status_code=status_code,
                       title=page.t("facts.title", city=city["name"]), nav="submissions", city=city,
                       submission=submission[:64], facts=facts, errors=errors or [], countries=countries(page),
                       states=places.choices(country, page.lang) if places.has_subdivisions(country) else [],
                       history=[(h["changed_at"], history_text(page, h)) for h in history])


@router.get("/cities/{city_id}/facts")
async def facts_page(page: OperatorPage, city_id: str, submission: str = "") -> HTMLResponse:
    return await render(page, city_id, submission)


def _population(text: str) -> int | str:
    digits = text.replace(",", "").replace(".", "").replace(" ", "")
    return int(digits) if digits.isdigit() else text


@router.post("/cities/{city_id}/facts")
async def correct(page: OperatorPage, city_id: str, submission: str = "") -> Response:
    form = await page.form()
    facts = {name: str(form.get(name, "")).strip() for name in FIELDS}
    if form.get("action") == "choose_country":  # no scripts: the chosen country's states
        if places.normalise(facts["country"], facts["state"]) is None:
            facts["state"] = ""
        return await render(page, city_id, submission, facts=facts)
    body = {**facts, "population": _population(facts["population"])}
    r = await IntakeApi(page).call("PATCH", f"/api/v1/cities/{city_id}/facts", json=body)
    if r.status_code == 200:
        back = f"/operator/cities/{city_id}/facts" + (f"?submission={submission}" if submission else "")
        return page.redirect(back, done="facts_saved")
    errors = field_errors(page, IntakeApi.problem(r))
    order = {name: i for i, name in enumerate(FIELDS)}
    errors.sort(key=lambda e: order.get(e.field or "", 99))
    return await render(page, city_id, submission, facts=facts, errors=errors, status_code=r.status_code)

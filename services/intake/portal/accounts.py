"""Accounts: the entry point, sign in, sign out, register a city."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, RedirectResponse, Response

from datetime import timedelta

from services.intake import accounts, registration
from services.intake.deps import client_address, get_registration_throttle, get_throttle
from services.intake.errors import (
    CityAlreadyRegistered,
    EmailTaken,
    RegistrationLinkInvalid,
    SignInFailed,
    IneligibleCity,
    UnknownState,
)
from services.intake.portal.console import PORTAL, catalog_of, options_of
from shared.catalog import places
from shared.errors import RateLimited
from shared.infra.auth import Role, issue_token
from shared.web.pages import FieldError, Page, PageContext, safe_next
from shared.web.problems import correlation_id

router = PORTAL.router()

REGISTER_FIELDS = ("name", "state", "country", "population", "contact_name", "contact_email", "password")


def start_session(page: Page, user) -> None:
    principal = accounts.principal_for(user)
    settings = page.runtime.settings.auth
    page.sign_in_as(principal, issue_token(principal, settings), settings.token_ttl_minutes * 60, user.language)


@router.get("/")
async def index(page: PageContext) -> RedirectResponse:
    return page.redirect(PORTAL.home if page.principal else PORTAL.sign_in)


@router.get("/sign-in")
async def sign_in_form(page: PageContext) -> HTMLResponse:
    return page.render("sign_in.html", title=page.t("sign_in.title"), email="",
                       next=page.request.query_params.get("next", ""))


@router.post("/sign-in")
async def sign_in(page: PageContext) -> Response:
    form = await page.form()
    email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
    next_url = str(form.get("next", ""))
    errors = []
    if not email:
        errors.append(FieldError("email", page.t("sign_in.errors.email")))
    if not password:
        errors.append(FieldError("password", page.t("sign_in.errors.password")))
    if not errors:
        try:
            async with page.runtime.db.sessionmaker() as session:
                user = await accounts.sign_in(session, get_throttle(page.request), email=email, password=password,
                                              client=client_address(page.request))
        except (SignInFailed, RateLimited) as exc:  # one message for an unknown email and a wrong password
            errors.append(FieldError("email", page.problem(exc)))
        else:
            if user.role != Role.CITY.value:
                errors.append(FieldError("email", page.t("sign_in.errors.not_city")))
            else:
                start_session(page, user)
                return page.redirect(safe_next(next_url, PORTAL))
    return page.render("sign_in.html", status_code=422, title=page.t("sign_in.title"), email=email, next=next_url,
                       errors=errors)


@router.post("/sign-out")
async def sign_out(page: PageContext) -> RedirectResponse:
    await page.form()
    page.sign_out()
    return page.redirect(PORTAL.sign_in, done="signed_out")


def countries(page: Page) -> list[tuple[str, str]]:
    """The programme's countries (the catalog's eligibility list), named in the page language."""
    codes = catalog_of(page).eligibility.countries
    return sorted(((c, page.t(f"countries.{c}")) for c in codes), key=lambda item: item[1])


def state_groups(page: Page, country: str) -> list[tuple[str, str | None, list[tuple[str, str]]]]:
    """The states and provinces to choose from (`_state.html`): the country's own once it is
    chosen, else every programme country's, grouped and named in the page language."""
    if country:
        return [(country, None, places.choices(country, page.lang))]
    return [(code, name, places.choices(code, page.lang)) for code, name in countries(page)
            if places.has_subdivisions(code)]


def render_register(page: Page, values: dict, *, status_code: int = 200, errors: list[FieldError] | None = None
                    ) -> HTMLResponse:
    known = {code for code, _ in countries(page)}
    country = values.get("country", "").upper()
    return page.render("register.html", status_code=status_code, title=page.t("register.title"), values=values,
                       countries=countries(page), state_groups=state_groups(page, country if country in known else ""),
                       errors=errors or [])


@router.get("/register")
async def register_form(page: PageContext, country: str = "") -> HTMLResponse:
    return render_register(page, {"country": country[:2].upper()} if country else {})


def parse_population(text: str) -> int | None:
    try:
        return int(text.replace(",", "").replace(".", "").replace(" ", ""))
    except ValueError:
        return None


@router.post("/register")
async def register(page: PageContext) -> Response:
    form = await page.form()
    values = {name: str(form.get(name, "")).strip() for name in REGISTER_FIELDS}
    values["password"] = str(form.get("password", ""))
    if form.get("action") == "choose_country":  # no scripts: the list of the chosen country's states
        values.pop("password")
        if places.normalise(values["country"], values["state"]) is None:
            values["state"] = ""
        return render_register(page, values)
    data, errors = page.parse(accounts.CityCreate, {**values, "population": parse_population(values["population"]),
                                                    "language": page.lang}, messages="register.errors")
    if values["password"] != str(form.get("password_confirm", "")):
        errors.append(FieldError("password_confirm", page.t("register.errors.password_confirm")))
    status = 422
    if not errors and data is not None:
        options = options_of(page)
        try:
            async with page.runtime.db.transaction() as session:
                sent = await registration.request_city(
                    session, data, link_base=page.runtime.settings.service.public_url or str(page.request.base_url),
                    ttl=timedelta(hours=options.registration_link_hours),
                    eligibility=catalog_of(page).eligibility,
                    limits=get_registration_throttle(page.request), client=client_address(page.request),
                    correlation_id=correlation_id(page.request) or "")
        except UnknownState as exc:
            errors.append(FieldError(exc.field, page.problem(exc)))
        except IneligibleCity as exc:  # said beside the population or the country
            kind = exc.errors[0]["field"]
            params = {k: page.t.number(v) if isinstance(v, int) else v for k, v in exc.params.items()}
            errors.append(FieldError(kind, page.t(f"register.errors.ineligible_{kind}", **params)))
        except RateLimited as exc:  # too many for this address or from this client
            errors.append(FieldError("contact_email", page.problem(exc)))
            status = 429
        else:
            page.runtime.wake_relay()
            # The same page whether or not the address or the city has an account already.
            return page.render("register_sent.html", title=page.t("register.sent_title"), email=sent.email,
                               hours=f"{sent.expires_in_hours:g}")
    order = {name: i for i, name in enumerate((*REGISTER_FIELDS, "password_confirm"))}
    errors.sort(key=lambda e: order.get(e.field or "", 99))
    values.pop("password")
    return render_register(page, values, status_code=status, errors=errors)


@router.get("/register/confirm")
async def confirm_form(page: PageContext, token: str = "") -> HTMLResponse:
    return page.render("register_confirm.html", title=page.t("register.confirm_title"), token=token[:200])


@router.post("/register/confirm")
async def confirm(page: PageContext) -> Response:
    form = await page.form()
    try:
        async with page.runtime.db.transaction() as session:
            city, user = await registration.confirm(session, str(form.get("token", ""))[:200])
    except (RegistrationLinkInvalid, CityAlreadyRegistered, EmailTaken) as exc:
        return page.render("register_confirm.html", status_code=page.request.app.state.errors[exc.code].status,
                           title=page.t("register.confirm_title"), token="",
                           errors=[FieldError(None, page.problem(exc, name=exc.params.get("name", "")))])
    start_session(page, user)
    first = user.email == city.contact_email  # the city's contact starts with the Data Snapshot
    return page.redirect("/portal/snapshot" if first else PORTAL.home, done="registered" if first else "joined")

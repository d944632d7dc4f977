"""The city portal: server-rendered pages under /portal for everything a city does.

Thin like the JSON API: each handler loads what it shows or calls one use case of the
intake modules (accounts, snapshot, drafts, evidence, submissions, clarifications). Forms
work without JavaScript (POST-redirect-GET); every POST carries a CSRF token that must
match the `wwc_csrf` cookie (double submit). Sign-in sets the HttpOnly `wwc_token` cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.intake import accounts, clarifications, drafts, evidence, snapshot, submissions
from services.intake.config import IntakeOptions
from services.intake.i18n import LANG_COOKIE, LANGUAGES, Translator, choose_language
from services.intake.models import Assessment, City, Submission
from shared.catalog.loader import load_catalog
from shared.catalog.model import Catalog
from shared.contracts.workflows import CertificationStatus, Stage
from shared.infra.auth import COOKIE as TOKEN_COOKIE
from shared.infra.auth import Principal, Role, issue_token, optional_principal
from shared.infra.http import ProblemError
from shared.infra.runtime import ServiceRuntime

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
CSRF_COOKIE = "wwc_csrf"
CSRF_FIELD = "csrf_token"
LANGUAGE_NAMES = {"en": "English", "es": "Español", "pt": "Português"}
FORM_LIMITS = {"max_files": 0, "max_fields": 50}
# No scripts at all; inline styles only for the width of progress bars.
CSP = ("default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.trim_blocks = templates.env.lstrip_blocks = True


class Redirect(Exception):
    """Raised anywhere in a portal handler (or its dependencies) to answer 303 See Other."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class PortalRoute(APIRoute):
    """Portal routes answer in HTML: redirects and problems become pages, and the
    language and CSRF cookies decided for the request are set on every response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Redirect as redirect:
                response = RedirectResponse(redirect.url, status_code=303)
            except ProblemError as problem:
                response = error_page(request, problem)
            page: Page | None = getattr(request.state, "page", None)
            if page is not None:
                page.set_cookies(response)
            response.headers.setdefault("cache-control", "no-store")
            response.headers.setdefault("content-security-policy", CSP)
            response.headers.setdefault("x-frame-options", "DENY")
            response.headers.setdefault("referrer-policy", "same-origin")
            return response

        return portal_handler


router = APIRouter(prefix="/portal", include_in_schema=False, route_class=PortalRoute)


# --- the per-request page context ------------------------------------------------------------


@dataclass
class Page:
    request: Request
    lang: str
    t: Translator
    csrf: str
    principal: Principal | None
    new_csrf: bool = False
    remember_lang: bool = False
    cookies: list[tuple[str, str | None, dict]] = field(default_factory=list)

    @property
    def runtime(self) -> ServiceRuntime:
        return self.request.app.state.runtime

    @property
    def options(self) -> IntakeOptions:
        return self.request.app.state.intake_options

    @property
    def catalog(self) -> Catalog:
        return load_catalog(self.options.catalog_version)

    @property
    def cycle(self) -> str:
        return self.options.current_cycle

    # -- cookies ----------------------------------------------------------------------------

    def _secure(self) -> bool:
        return self.request.url.scheme == "https"

    def set_cookie(self, name: str, value: str | None, **kwargs: Any) -> None:
        """Queue a cookie for the response (None deletes it)."""
        self.cookies.append((name, value, kwargs))

    def set_cookies(self, response: Response) -> None:
        if self.new_csrf:
            response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="lax", path="/portal",
                                secure=self._secure())
        if self.remember_lang:
            response.set_cookie(LANG_COOKIE, self.lang, max_age=365 * 24 * 3600, samesite="lax", path="/",
                                secure=self._secure())
        for name, value, kwargs in self.cookies:
            if value is None:
                response.delete_cookie(name, path=kwargs.get("path", "/"))
            else:
                response.set_cookie(name, value, secure=self._secure(), **kwargs)

    def rotate_csrf(self) -> None:
        self.csrf, self.new_csrf = secrets.token_urlsafe(32), True

    # -- forms ------------------------------------------------------------------------------

    async def form(self) -> FormData:
        """The posted (url-encoded) form, after checking its CSRF token."""
        form = await self.request.form(**FORM_LIMITS)
        self.check_csrf(str(form.get(CSRF_FIELD, "")))
        return form

    def check_csrf(self, token: str) -> None:
        cookie = self.request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not token or not secrets.compare_digest(cookie, token):
            raise ProblemError(403, "csrf", "The form could not be accepted.")

    # -- rendering --------------------------------------------------------------------------

    def text(self, obj: Any) -> str:
        """A catalog text (area, criterion, question, guidance) in the page's language."""
        return self.catalog.text(obj, self.lang)

    def url_with_lang(self, code: str) -> str:
        params = dict(self.request.query_params)
        params.pop("done", None)
        params["lang"] = code
        return f"{self.request.url.path}?{urlencode(params)}"

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        done = self.request.query_params.get("done", "")
        flash_key = f"flash.{done}"
        base = {
            "lang": self.lang,
            "t": self.t,
            "ctext": self.text,
            "csrf": self.csrf,
            "principal": self.principal,
            "languages": [(code, LANGUAGE_NAMES[code], self.url_with_lang(code)) for code in LANGUAGES],
            "static_url": lambda name: f"/portal/static/{name}",
            "fmt_dt": format_datetime,
            "flash": self.t(flash_key) if done.isidentifier() and self.t.has(flash_key) else None,
            "errors": [],
            "field_errors": {},
        }
        base.update(context)
        if base["errors"] and not base["field_errors"]:
            base["field_errors"] = {e.field: e.message for e in base["errors"] if e.field}
        return templates.TemplateResponse(self.request, template, base, status_code=status_code)

    def redirect(self, path: str, done: str | None = None) -> RedirectResponse:
        url = path if not done else f"{path}{'&' if '?' in path else '?'}done={done}"
        return RedirectResponse(url, status_code=303)


@dataclass(frozen=True)
class FieldError:
    field: str | None  # the id of the input the message belongs to (None: the whole form)
    message: str


def page_for(request: Request) -> Page:
    """The page context: language, translator, CSRF token and who is signed in."""
    existing = getattr(request.state, "page", None)
    if existing is not None:
        return existing
    query_lang = request.query_params.get("lang")
    lang = choose_language(query_lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    csrf = request.cookies.get(CSRF_COOKIE, "")
    page = Page(
        request=request, lang=lang, t=Translator(lang), csrf=csrf, principal=optional_principal(request),
        remember_lang=bool(query_lang) and query_lang.lower() in LANGUAGES,
    )
    if len(csrf) < 32:
        page.rotate_csrf()
    request.state.page = page
    return page


def city_page(request: Request) -> Page:
    """A page for a signed-in city user; anyone else is sent to the sign-in page."""
    page = page_for(request)
    principal = page.principal
    if principal is None or principal.role != Role.CITY or not principal.city_id:
        if request.method != "GET":  # a form posted after the session ended: start from home
            raise Redirect("/portal/sign-in")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect(f"/portal/sign-in?{urlencode({'next': target})}")
    return page


def error_page(request: Request, problem: ProblemError) -> HTMLResponse:
    page = page_for(request)
    if problem.title == "csrf":
        heading, message = page.t("errors.csrf_title"), page.t("errors.csrf")
    elif problem.status == 404:
        heading, message = page.t("errors.not_found_title"), page.t("errors.not_found")
    else:
        heading, message = page.t("errors.generic_title"), problem.detail or problem.title
    return page.render("error.html", status_code=problem.status, title=heading, heading=heading,
                       message=message)


def format_datetime(value: datetime | str | None) -> str:
    """A date and time every language reads the same way: 2026-03-01 14:05 UTC."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def safe_next(target: str | None) -> str:
    """Only a portal path may be a redirect target after sign-in (no open redirect)."""
    if target and target.startswith("/portal/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/portal/home"


# --- static files and the entry point --------------------------------------------------------


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise ProblemError(404, "Not found", name)
    response = FileResponse(path)
    response.headers["cache-control"] = "public, max-age=3600"
    return response


@router.get("/")
async def index(request: Request) -> RedirectResponse:
    page = page_for(request)
    return page.redirect("/portal/home" if page.principal else "/portal/sign-in")


# --- accounts: register, sign in, sign out ---------------------------------------------------


def _sign_in(page: Page, user) -> None:
    principal = accounts.principal_for(user)
    token = issue_token(principal, page.runtime.settings.auth)
    ttl = page.runtime.settings.auth.token_ttl_minutes * 60
    page.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", path="/", max_age=ttl)
    page.rotate_csrf()  # a new session gets a new token (no fixation)
    if LANG_COOKIE not in page.request.cookies and not page.remember_lang and user.language in LANGUAGES:
        page.lang, page.remember_lang = user.language, True


@router.get("/sign-in")
async def sign_in_form(request: Request) -> HTMLResponse:
    page = page_for(request)
    return page.render("sign_in.html", title=page.t("sign_in.title"), email="",
                       next=request.query_params.get("next", ""))


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    page = page_for(request)
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
                user = await accounts.authenticate(session, email, password)
        except ProblemError:  # same message for an unknown email and a wrong password
            errors.append(FieldError("email", page.t("sign_in.errors.failed")))
        else:
            if user.role != Role.CITY.value:
                errors.append(FieldError("email", page.t("sign_in.errors.not_city")))
            else:
                _sign_in(page, user)
                return page.redirect(safe_next(next_url))
    return page.render("sign_in.html", status_code=422,
                       title=page.t("sign_in.title"), email=email, next=next_url, errors=errors)


@router.post("/sign-out")
async def sign_out(request: Request) -> RedirectResponse:
    page = page_for(request)
    await page.form()
    page.set_cookie(TOKEN_COOKIE, None, path="/")
    page.rotate_csrf()
    return page.redirect("/portal/sign-in", done="signed_out")


REGISTER_FIELDS = ("name", "state", "country", "population", "contact_name", "contact_email", "password")


def _countries(page: Page) -> list[tuple[str, str]]:
    """The programme's countries (the catalog's eligibility list), named in the page language."""
    codes = page.catalog.eligibility.countries
    return sorted(((c, page.t(f"countries.{c}")) for c in codes), key=lambda item: item[1])


@router.get("/register")
async def register_form(request: Request) -> HTMLResponse:
    page = page_for(request)
    return page.render("register.html", title=page.t("register.title"), values={}, countries=_countries(page))


@router.post("/register")
async def register(request: Request) -> Response:
    page = page_for(request)
    form = await page.form()
    values = {name: str(form.get(name, "")).strip() for name in REGISTER_FIELDS}
    values["password"] = str(form.get("password", ""))
    errors: list[FieldError] = []
    population: int | None = None
    try:
        population = int(values["population"].replace(",", "").replace(".", "").replace(" ", ""))
    except ValueError:
        errors.append(FieldError("population", page.t("register.errors.population")))
    if values["password"] != str(form.get("password_confirm", "")):
        errors.append(FieldError("password_confirm", page.t("register.errors.password_confirm")))
    data = None
    try:  # validate the other fields even when the population could not be read
        data = accounts.CityCreate(**{**values, "population": population if population is not None else 1,
                                      "language": page.lang})
    except ValidationError as exc:
        seen = {e.field for e in errors}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            if name in REGISTER_FIELDS and name not in seen:
                seen.add(name)
                errors.append(FieldError(name, page.t(f"register.errors.{name}")))
    if not errors and data is not None:
        try:
            async with page.runtime.db.transaction() as session:
                _city, user = await accounts.register_city(session, data)
        except ProblemError as problem:
            field_name = problem.errors[0].get("field") if problem.errors else None
            if field_name == "contact_email":
                errors.append(FieldError("contact_email", page.t("register.errors.email_taken")))
            elif field_name == "state":
                errors.append(FieldError("state", page.t("register.errors.state_us")))
            elif problem.status == 409:
                errors.append(FieldError("name", page.t("register.errors.city_taken", name=data.name)))
            else:
                raise
        else:
            _sign_in(page, user)
            return page.redirect("/portal/snapshot", done="registered")
    order = {name: i for i, name in enumerate((*REGISTER_FIELDS, "password_confirm"))}
    errors.sort(key=lambda e: order.get(e.field or "", 99))
    values.pop("password")
    return page.render("register.html", status_code=422, title=page.t("register.title"), values=values,
                       countries=_countries(page), errors=errors)


async def load_city(page: Page, session) -> City:
    city = await session.get(City, page.principal.city_id)
    if city is None:
        raise ProblemError(404, "Not found", "city")
    return city


@router.get("/home")
async def home(request: Request) -> HTMLResponse:
    """Where the city stands: snapshot, assessment progress and submission, each a step."""
    page = city_page(request)
    async with page.runtime.db.sessionmaker() as session:
        city = await load_city(page, session)
        snap = await snapshot.find(session, city.id, page.cycle)
        assessment = await current_assessment(page, session)
        progress = await drafts.progress(session, assessment) if assessment else None
        sub = await city_submission(page, session)
    return page.render("home.html", title=page.t("home.title"), nav="home", city=city, snap=snap,
                       assessment=assessment, progress=progress, sub=sub, cycle=page.cycle)


# --- the Data Snapshot -----------------------------------------------------------------------


def eligibility_reasons(page: Page, catalog: Catalog, city: City) -> list[str]:
    """Why a city may not go on, in the page's language. The decision is `snapshot`'s;
    its reasons are English sentences, so the catalog rule's two parts are named here."""
    rule = catalog.eligibility
    reasons = []
    if city.population < rule.min_population:
        reasons.append(page.t("snapshot.reason_population", minimum=f"{rule.min_population:,}",
                              city=city.name, population=f"{city.population:,}"))
    if city.country.upper() not in rule.countries:
        reasons.append(page.t("snapshot.reason_country", city=city.name, country=city.country.upper()))
    return reasons


def area_names(page: Page) -> dict[str, str]:
    return {area.id: page.text(area) for area in page.catalog.areas}


@router.get("/snapshot")
async def snapshot_page(request: Request) -> HTMLResponse:
    page = city_page(request)
    async with page.runtime.db.sessionmaker() as session:
        snap = await snapshot.find(session, page.principal.city_id, page.cycle)
        city = await load_city(page, session)
    if snap is None:
        return page.render("snapshot.html", title=page.t("snapshot.title"), nav="snapshot",
                           questions=page.catalog.snapshot, answers={}, city=city,
                           area_names=area_names(page))
    catalog = load_catalog(snap.catalog_version)
    result = snapshot.read(catalog, snap, city, page.lang)
    return page.render("snapshot_result.html", title=page.t("snapshot.result_title"), nav="snapshot",
                       result=result, city=city, reasons=eligibility_reasons(page, catalog, city))


@router.post("/snapshot")
async def take_snapshot(request: Request) -> Response:
    page = city_page(request)
    form = await page.form()
    answers: dict[str, bool] = {}
    errors = []
    for number, question in enumerate(page.catalog.snapshot, 1):
        value = form.get(question.id)
        if value in ("yes", "no"):
            answers[question.id] = value == "yes"
        else:
            errors.append(FieldError(question.id, page.t("snapshot.errors.unanswered", number=number)))
    if errors:
        async with page.runtime.db.sessionmaker() as session:
            city = await load_city(page, session)
        return page.render("snapshot.html", status_code=422, title=page.t("snapshot.title"), nav="snapshot",
                           questions=page.catalog.snapshot, city=city, errors=errors, area_names=area_names(page),
                           answers={k: ("yes" if v else "no") for k, v in answers.items()})
    try:
        async with page.runtime.db.transaction() as session:
            await snapshot.take(session, city_id=page.principal.city_id, cycle=page.cycle,
                                catalog_version=page.options.catalog_version,
                                data=snapshot.SnapshotCreate(answers=answers))
    except ProblemError as problem:
        if problem.status != 409:  # answered already (another tab): show that result
            raise
    return page.redirect("/portal/snapshot", done="snapshot_taken")


# --- the assessment draft --------------------------------------------------------------------


async def current_assessment(page: Page, session) -> Assessment | None:
    return await drafts.find(session, page.principal.city_id, page.cycle)


async def require_assessment(page: Page, session) -> Assessment:
    """The cycle's assessment (a draft, or read-only once submitted), or off to the
    overview, which offers to start one."""
    assessment = await current_assessment(page, session)
    if assessment is None:
        raise Redirect("/portal/assessment")
    return assessment


def missing_list(page: Page, catalog: Catalog, missing: list[dict]) -> list[dict]:
    """`responses.DG1[.evidence]` problems as localized lines linking to the criterion."""
    out = []
    for item in missing:
        parts = item["field"].split(".")
        cid = parts[1] if len(parts) > 1 else ""
        if not catalog.has_criterion(cid):
            continue
        key = "submit.needs_evidence" if parts[-1] == "evidence" else "submit.not_answered"
        out.append({"criterion": cid, "message": page.t(key, criterion=cid)})
    return out


@router.get("/assessment")
async def assessment_page(request: Request) -> HTMLResponse:
    page = city_page(request)
    async with page.runtime.db.sessionmaker() as session:
        assessment = await current_assessment(page, session)
        snap = await snapshot.find(session, page.principal.city_id, page.cycle)
        if assessment is None:
            return page.render("assessment_start.html", title=page.t("assessment.title", cycle=page.cycle),
                               nav="assessment", snapshot=snap, cycle=page.cycle)
        catalog = load_catalog(assessment.catalog_version)
        progress = await drafts.progress(session, assessment)
        proposal = None
        if assessment.status == "draft":
            try:
                proposal = await drafts.carry_over_proposal(session, assessment)
            except ProblemError:
                proposal = None  # no earlier cycle
    copyable = [i for i in proposal.items if i.will_copy] if proposal else []
    return page.render("assessment.html", title=page.t("assessment.title", cycle=assessment.cycle),
                       nav="assessment", assessment=assessment, progress=progress, catalog=catalog,
                       proposal=proposal, copyable=copyable)


@router.post("/assessment/start")
async def start_assessment(request: Request) -> Response:
    page = city_page(request)
    await page.form()
    try:
        async with page.runtime.db.transaction() as session:
            await drafts.start(session, city_id=page.principal.city_id, cycle=page.cycle,
                               catalog_version=page.options.catalog_version)
    except ProblemError as problem:
        if problem.status == 409:  # no Data Snapshot or not eligible: the snapshot page says why
            return page.redirect("/portal/snapshot")
        raise
    return page.redirect("/portal/assessment", done="assessment_started")


@router.post("/assessment/carry-over")
async def carry_over(request: Request) -> Response:
    page = city_page(request)
    form = await page.form()
    async with page.runtime.db.transaction() as session:
        assessment = await require_assessment(page, session)
        result = await drafts.carry_over(
            session, assessment=assessment, user_id=page.principal.sub,
            data=drafts.CarryOverApply(from_cycle=str(form.get("from_cycle") or "") or None),
        )
    return page.redirect("/portal/assessment", done="carried_over" if result.copied else "nothing_carried")


@router.get("/assessment/areas/{area_id}")
async def area_page(area_id: str, request: Request) -> HTMLResponse:
    page = city_page(request)
    async with page.runtime.db.sessionmaker() as session:
        assessment = await require_assessment(page, session)
        view = await drafts.read(session, assessment)
    catalog = load_catalog(assessment.catalog_version)
    try:
        area = catalog.area(area_id)
    except KeyError:
        raise ProblemError(404, "Not found", area_id) from None
    by_id = {r.criterion_id: r for r in view.responses}
    rows = [(c, by_id[c.id]) for c in catalog.criteria_in_area(area_id)]
    progress = next(a for a in view.progress.areas if a.area == area_id)
    return page.render("area.html", title=page.text(area), nav="assessment", assessment=assessment, area=area,
                       rows=rows, progress=progress)


async def render_criterion(page: Page, criterion_id: str, *, status_code: int = 200,
                           errors: list[FieldError] | None = None, values: dict | None = None,
                           **extra: Any) -> HTMLResponse:
    """A criterion's page: its text and guidance, the answer form (the saved answer, or
    after a refused save the values the user typed), and its evidence."""
    async with page.runtime.db.sessionmaker() as session:
        assessment = await require_assessment(page, session)
        saved = await drafts.response_read(session, assessment, criterion_id)  # 404 for an unknown id
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
        editable=assessment.status == "draft", max_file_mb=f"{page.options.max_file_mb:g}",
        components=[page.text(catalog.component(c)) for c in crit.components], **extra,
    )


@router.get("/assessment/criteria/{criterion_id}")
async def criterion_page(criterion_id: str, request: Request) -> HTMLResponse:
    return await render_criterion(city_page(request), criterion_id)


@router.post("/assessment/criteria/{criterion_id}")
async def save_criterion(criterion_id: str, request: Request) -> Response:
    page = city_page(request)
    form = await page.form()
    response = str(form.get("response", ""))
    narrative = str(form.get("narrative", ""))
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = None
    errors: list[FieldError] = []
    conflict: dict | None = None
    if response not in ("YES", "IN_PROGRESS", "NO"):
        errors.append(FieldError("response", page.t("criterion.errors.response")))
    if len(narrative) > 20000:
        errors.append(FieldError("narrative", page.t("criterion.errors.narrative_long")))
    if not errors:
        try:
            async with page.runtime.db.transaction() as session:
                assessment = await require_assessment(page, session)
                await drafts.save_response(
                    session, assessment=assessment, criterion_id=criterion_id, user_id=page.principal.sub,
                    data=drafts.ResponseUpdate(response=response, narrative=narrative), expected_version=version,
                )
        except ProblemError as problem:
            if problem.status == 409 and "current_version" in problem.extra:
                conflict = problem.extra
                errors.append(FieldError("conflict", page.t("criterion.errors.conflict",
                                                            name=conflict.get("updated_by_name") or "?")))
            elif problem.status == 409:
                return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="already_submitted")
            else:
                raise
    if not errors:
        ids = load_catalog(assessment.catalog_version).criterion_ids
        index = ids.index(criterion_id)
        if form.get("action") == "next":
            if index + 1 < len(ids):
                return page.redirect(f"/portal/assessment/criteria/{ids[index + 1]}", done="saved_previous")
            return page.redirect("/portal/assessment/submit", done="saved")
        return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="saved")
    # After a conflict the form carries the current version: saving again replaces
    # the colleague's answer knowingly, with the values the user typed.
    values = {"response": response, "narrative": narrative,
              "version": conflict["current_version"] if conflict else version}
    return await render_criterion(page, criterion_id, status_code=409 if conflict else 422, errors=errors,
                                  values=values, conflict=conflict)


# --- evidence: files, links, removal, download ------------------------------------------------

# Upload problems (by their title) -> the message shown next to the file field.
FILE_ERRORS = {
    "File type not allowed": "evidence.errors.type",
    "File too large": "evidence.errors.too_large",
    "File content does not match its name": "evidence.errors.mismatch",
    "Submission size limit reached": "evidence.errors.submission_limit",
    "Bad upload": "evidence.errors.bad_upload",
}


def file_error_message(page: Page, problem: ProblemError) -> str:
    key = FILE_ERRORS.get(problem.title)
    if key is None:
        reason = problem.errors[0].get("reason", "") if problem.errors else ""
        key = "evidence.errors.empty" if "empty" in reason else "evidence.errors.no_file"
    return page.t(key, mb=f"{page.options.max_file_mb:g}", total_mb=f"{page.options.max_submission_mb:g}")


def check_upload_csrf(page: Page) -> None:
    """Multipart forms carry the token in their action's query string, so a forged
    upload is refused before its body is read."""
    page.check_csrf(page.request.query_params.get(CSRF_FIELD, ""))


def is_file_problem(problem: ProblemError) -> bool:
    """True for a problem with the file itself (shown next to the file field)."""
    return bool(problem.errors) and problem.errors[0].get("field") == "file"


@router.post("/assessment/criteria/{criterion_id}/evidence/file")
async def upload_file(criterion_id: str, request: Request) -> Response:
    """`evidence.add_file` streams the multipart body (spooled, hashed, size-capped) to
    object storage; the page handler never holds the file."""
    page = city_page(request)
    check_upload_csrf(page)
    try:
        await evidence.add_file(page.runtime, page.options, page.principal, page.cycle, criterion_id, request)
    except ProblemError as problem:
        if is_file_problem(problem):
            error = FieldError("file", file_error_message(page, problem))
            return await render_criterion(page, criterion_id, status_code=problem.status, errors=[error])
        if problem.status == 409:
            return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="already_submitted")
        raise
    return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="file_added")


@router.post("/assessment/criteria/{criterion_id}/evidence/link")
async def add_link(criterion_id: str, request: Request) -> Response:
    page = city_page(request)
    form = await page.form()
    url, title = str(form.get("url", "")).strip(), str(form.get("link_title", "")).strip()
    try:
        data = evidence.LinkCreate(url=url, title=title)
    except ValidationError as exc:
        bad_title = any(err["loc"] and err["loc"][0] == "title" for err in exc.errors())
        error = (FieldError("link_title", page.t("evidence.errors.title_long")) if bad_title
                 else FieldError("url", page.t("evidence.errors.url")))
        return await render_criterion(page, criterion_id, status_code=422, errors=[error], link_url=url,
                                      link_title=title)
    try:
        async with page.runtime.db.transaction() as session:
            await evidence.add_link(session, page.principal, page.cycle, criterion_id, data)
    except ProblemError as problem:
        if problem.status == 409:
            return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="already_submitted")
        raise
    return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="link_added")


@router.post("/assessment/criteria/{criterion_id}/evidence/{evidence_id}/remove")
async def remove_evidence(criterion_id: str, evidence_id: str, request: Request) -> Response:
    page = city_page(request)
    await page.form()
    try:
        await evidence.remove(page.runtime, page.principal, evidence_id)
    except ProblemError as problem:
        if problem.status == 409:
            return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="already_submitted")
        raise
    return page.redirect(f"/portal/assessment/criteria/{criterion_id}", done="evidence_removed")


@router.get("/evidence/{evidence_id}")
async def download_evidence(evidence_id: str, request: Request) -> RedirectResponse:
    """Opens a file through a short-lived authorised link (never a permanent URL)."""
    page = city_page(request)
    link = await evidence.download_link(page.runtime, page.options, page.principal, evidence_id,
                                        str(request.base_url))
    return RedirectResponse(link.url, status_code=303)


# --- submit, status, withdraw ---------------------------------------------------------------


@router.get("/assessment/submit")
async def submit_page(request: Request) -> HTMLResponse:
    page = city_page(request)
    async with page.runtime.db.sessionmaker() as session:
        assessment = await require_assessment(page, session)
        progress = await drafts.progress(session, assessment)
    if assessment.status != "draft":
        raise Redirect("/portal/submission")
    catalog = load_catalog(assessment.catalog_version)
    return page.render("submit.html", title=page.t("submit.title"), nav="assessment", assessment=assessment,
                       progress=progress, missing=missing_list(page, catalog, progress.missing))


@router.post("/assessment/submit")
async def submit(request: Request) -> Response:
    page = city_page(request)
    await page.form()
    try:
        await submissions.submit(page.runtime, city_id=page.principal.city_id, cycle=page.cycle,
                                 user_id=page.principal.sub, review_mode=page.options.review_mode)
    except ProblemError as problem:
        if problem.status != 422:
            raise
        async with page.runtime.db.sessionmaker() as session:
            assessment = await require_assessment(page, session)
            progress = await drafts.progress(session, assessment)
        catalog = load_catalog(assessment.catalog_version)
        missing = missing_list(page, catalog, problem.errors)
        errors = [FieldError("missing", page.t("submit.incomplete", count=len(missing)))]
        return page.render("submit.html", status_code=422, title=page.t("submit.title"), nav="assessment",
                           assessment=assessment, progress=progress, missing=missing, errors=errors)
    return page.redirect("/portal/submission", done="submitted")


STAGE_ORDER = (Stage.SUBMITTED, Stage.EVIDENCE_CHECK, Stage.IN_REVIEW, Stage.SCORING, Stage.REPORTING,
               Stage.DEBRIEF, Stage.COMPLETED)


def timeline(status: CertificationStatus | None, sub: Submission) -> list[dict]:
    """Every stage in order with the date it was (last) reached; clarification rounds and
    a withdrawal appear where they happened."""
    if status is None:
        return [{"stage": sub.status, "at": sub.status_changed_at, "state": "current"}]
    reached: list[dict] = []
    for entry in status.history:
        reached.append({"stage": entry.stage.value, "at": entry.at, "state": "done"})
    if reached:
        reached[-1]["state"] = "done" if status.stage == Stage.COMPLETED else "current"
    if status.stage in (Stage.WITHDRAWN, Stage.COMPLETED):
        return reached
    seen = {e["stage"] for e in reached}
    position = max((STAGE_ORDER.index(Stage(e["stage"])) for e in reached if Stage(e["stage"]) in STAGE_ORDER),
                   default=0)
    upcoming = [{"stage": s.value, "at": None, "state": "upcoming"} for s in STAGE_ORDER[position + 1:]
                if s.value not in seen]
    return reached + upcoming


async def city_submission(page: Page, session) -> Submission | None:
    found = await submissions.list_for(session, page.principal, page.cycle)
    return found[0] if found else None


async def live_status(page: Page, sub: Submission) -> CertificationStatus | None:
    """The workflow's status; None while the workflow engine cannot be reached (the
    pages then show the stage intake last recorded)."""
    try:
        return await submissions.live_status(page.runtime, sub)
    except ProblemError:
        return None


async def require_submission(page: Page) -> tuple[Submission, CertificationStatus | None]:
    async with page.runtime.db.sessionmaker() as session:
        sub = await city_submission(page, session)
    if sub is None:
        raise Redirect("/portal/submission")
    return sub, await live_status(page, sub)


@router.get("/submission")
async def submission_page(request: Request) -> HTMLResponse:
    page = city_page(request)
    async with page.runtime.db.sessionmaker() as session:
        sub = await city_submission(page, session)
    if sub is None:
        return page.render("submission.html", title=page.t("status.title"), nav="submission", sub=None)
    status = await live_status(page, sub)
    tier = status.score.tier if status and status.score else None
    tier_name = page.text(load_catalog(sub.catalog_version).tier(tier)) if tier else None
    return page.render("submission.html", title=page.t("status.title"), nav="submission", sub=sub, status=status,
                       steps=timeline(status, sub), tier_name=tier_name,
                       can_withdraw=bool(status and status.stage in submissions.WITHDRAWABLE))


@router.get("/submission/withdraw")
async def withdraw_form(request: Request) -> HTMLResponse:
    page = city_page(request)
    sub, status = await require_submission(page)
    return page.render("withdraw.html", title=page.t("withdraw.title"), nav="submission", sub=sub, status=status,
                       reason="", can_withdraw=bool(status and status.stage in submissions.WITHDRAWABLE))


@router.post("/submission/withdraw")
async def withdraw(request: Request) -> Response:
    page = city_page(request)
    form = await page.form()
    reason = str(form.get("reason", "")).strip()
    sub, status = await require_submission(page)
    errors: list[FieldError] = []
    if len(reason) > 2000:
        errors.append(FieldError("reason", page.t("withdraw.errors.reason_long")))
    if form.get("confirm") != "yes":
        errors.append(FieldError("confirm", page.t("withdraw.errors.confirm")))
    if not errors:
        try:
            await submissions.withdraw(page.runtime, sub, submissions.WithdrawalCreate(reason=reason))
        except ProblemError as problem:
            if problem.status != 409:
                raise
            errors.append(FieldError(None, page.t("withdraw.errors.too_late")))
        else:
            return page.redirect("/portal/submission", done="withdrawn")
    return page.render("withdraw.html", status_code=409 if errors[0].field is None else 422,
                       title=page.t("withdraw.title"), nav="submission", sub=sub, status=status, reason=reason,
                       errors=errors, can_withdraw=bool(status and status.stage in submissions.WITHDRAWABLE))


# --- clarification requests -------------------------------------------------------------------


async def _clarification(page: Page, sub: Submission, request_id: str) -> clarifications.ClarificationRead:
    for item in await clarifications.list_requests(page.runtime, sub):
        if item.request_id == request_id:
            return item
    raise ProblemError(404, "Not found", request_id)


async def _clarification_page(page: Page, request_id: str, *, status_code: int = 200,
                              errors: list[FieldError] | None = None, values: dict | None = None) -> HTMLResponse:
    sub, _ = await require_submission(page)
    item = await _clarification(page, sub, request_id)
    catalog = load_catalog(sub.catalog_version)
    criteria = [catalog.criterion(cid) for cid in item.criteria if catalog.has_criterion(cid)]
    files: dict[str, list] = {}
    for ev in item.evidence:
        files.setdefault(ev.criterion_id, []).append(ev)
    return page.render("clarification.html", status_code=status_code, title=page.t("clarification.title"),
                       nav="submission", sub=sub, item=item, criteria=criteria, files=files,
                       submitted=sub.frozen.get("responses", {}), values=values or {}, errors=errors or [],
                       max_file_mb=f"{page.options.max_file_mb:g}")


@router.get("/submission/clarifications/{request_id}")
async def clarification_page(request_id: str, request: Request) -> HTMLResponse:
    page = city_page(request)
    return await _clarification_page(page, request_id)


@router.post("/submission/clarifications/{request_id}/criteria/{criterion_id}/file")
async def clarification_file(request_id: str, criterion_id: str, request: Request) -> Response:
    page = city_page(request)
    check_upload_csrf(page)
    sub, _ = await require_submission(page)
    try:
        await clarifications.add_file(page.runtime, page.options, page.principal, sub, request_id, criterion_id,
                                      request)
    except ProblemError as problem:
        if is_file_problem(problem):
            error = FieldError(f"file-{criterion_id}", file_error_message(page, problem))
            return await _clarification_page(page, request_id, status_code=problem.status, errors=[error])
        if problem.status == 409:  # answered or past its due date: the page says so
            return page.redirect(f"/portal/submission/clarifications/{request_id}")
        raise
    return page.redirect(f"/portal/submission/clarifications/{request_id}", done="file_added")


@router.post("/submission/clarifications/{request_id}/evidence/{evidence_id}/remove")
async def clarification_remove(request_id: str, evidence_id: str, request: Request) -> Response:
    page = city_page(request)
    await page.form()
    try:
        await evidence.remove(page.runtime, page.principal, evidence_id)
    except ProblemError as problem:
        if problem.status != 409:
            raise
    return page.redirect(f"/portal/submission/clarifications/{request_id}", done="evidence_removed")


@router.post("/submission/clarifications/{request_id}")
async def answer_clarification(request_id: str, request: Request) -> Response:
    page = city_page(request)
    form = await page.form()
    sub, _ = await require_submission(page)
    item = await _clarification(page, sub, request_id)
    values = {cid: {"narrative": str(form.get(f"narrative-{cid}", "")).strip(),
                    "link": str(form.get(f"link-{cid}", "")).strip()} for cid in item.criteria}
    errors: list[FieldError] = []
    for cid, value in values.items():
        if not value["narrative"]:
            errors.append(FieldError(f"narrative-{cid}", page.t("clarification.errors.narrative", criterion=cid)))
        elif len(value["narrative"]) > 20000:
            errors.append(FieldError(f"narrative-{cid}", page.t("criterion.errors.narrative_long")))
        if value["link"]:
            try:
                evidence.LinkCreate(url=value["link"])
            except ValidationError:
                errors.append(FieldError(f"link-{cid}", page.t("evidence.errors.url")))
    if not errors:
        answers = {cid: clarifications.CriterionAnswer(narrative=v["narrative"], links=[v["link"]] if v["link"] else [])
                   for cid, v in values.items()}
        try:
            await clarifications.answer(page.runtime, page.principal, sub, request_id,
                                        clarifications.ClarificationAnswerCreate(answers=answers))
        except ProblemError as problem:
            if problem.status == 409:
                key = "clarification.errors.past_due" if "due" in problem.title.lower() else "clarification.errors.answered"
                errors.append(FieldError(None, page.t(key)))
            elif problem.status == 422:
                for err in problem.errors:
                    cid = err.get("field", "").split(".")[-1]
                    errors.append(FieldError(f"narrative-{cid}", page.t("clarification.errors.narrative", criterion=cid)))
            else:
                raise
        else:
            return page.redirect("/portal/submission", done="clarification_answered")
    return await _clarification_page(page, request_id, status_code=409 if errors[0].field is None else 422,
                                     errors=errors, values=values)

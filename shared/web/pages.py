"""Server-rendered consoles: the machinery every console shares (city portal, auditor
console, report pages, operator view).

A `Console` is one service's set of pages under a prefix: its templates (searched before
the shared layout in `shared/web/templates`), its locale directory (on top of the shared
strings), its navigation and its sign-in rule. Its router answers in HTML:

- a handler (or a dependency) raises `Redirect(url)` to answer 303 See Other;
- a domain error becomes the error page, its message translated from its `code`;
- every response gets the language and CSRF cookies decided for the request and the
  console's security headers.

Handlers take the typed `PageContext` (or a console's own `signed_in(...)` dependency).
Forms work without JavaScript (POST-redirect-GET); every POST carries a CSRF token bound
to the session: an HMAC, under a key derived from the platform secret, of the session
cookie (signed in) or of the anonymous nonce in `wwc_csrf` (before signing in). A cookie
tossed from another port of the same host cannot make a token that passes, and every
state-changing request whose `Origin` (or, without it, `Referer`) names another origin is
refused before its handler runs. A form's fields are parsed into
the same pydantic model the JSON API takes (`Page.parse`), so both refuse the same input;
the page words what was refused by field, in its language.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates as babel_dates
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from shared.contracts.text import LINK_IN_NAME
from shared.errors import DomainError, NotFound
from shared.infra.auth import COOKIE as TOKEN_COOKIE
from shared.infra.auth import Principal, Role, optional_principal
from shared.catalog import places
from shared.catalog.timezones import zone_label, zone_place
from shared.i18n import Translator, language_name, languages
from shared.infra.settings import service_urls
from shared.web.i18n import LANG_COOKIE, SHARED_LOCALES, choose_language

HERE = Path(__file__).parent
SHARED_TEMPLATES = HERE / "templates"
SHARED_STATIC = HERE / "static"
CSRF_COOKIE = "wwc_csrf"
CSRF_FIELD = "csrf_token"
FORM_LIMITS = {"max_files": 0, "max_fields": 50}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}
M = TypeVar("M", bound=BaseModel)  # the API model a form is parsed into
# No scripts at all; inline styles only for the width of progress bars.
CSP = ("default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class Redirect(Exception):
    """Raised anywhere in a page handler (or its dependencies) to answer 303 See Other."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class CsrfFailed(DomainError):
    code = "csrf_failed"


def csrf_token(secret: str, *, session: str | None, nonce: str) -> str:
    """The CSRF token of a session: an HMAC of the session cookie (the signed-in person's
    token) or, before signing in, of the anonymous nonce; the key is derived from the
    platform secret, so no one without it can make a token for a cookie they tossed."""
    key = hmac.new(secret.encode(), b"wwc-console-csrf", hashlib.sha256).digest()
    bound = f"session:{hashlib.sha256(session.encode()).hexdigest()}" if session else f"nonce:{nonce}"
    return hmac.new(key, bound.encode(), hashlib.sha256).hexdigest()


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def check_origin(request: Request) -> None:
    """A state-changing request must come from a page of this origin: its `Origin` (or,
    when a browser sends none, its `Referer`) must name this scheme, host and port. A
    request with neither (not from a browser) is judged by its CSRF token alone."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        return
    own = _origin(str(request.base_url))
    if claimed == "null" or _origin(claimed) != own:
        raise CsrfFailed("The form was posted from another site.")


@dataclass(frozen=True)
class FieldError:
    field: str | None  # the id of the input the message belongs to (None: the whole form)
    message: str


@dataclass(frozen=True)
class NavItem:
    key: str   # the locale key under `nav.` and the page's `nav` value
    href: str
    # The service whose console the entry opens ("": this one); another's is linked at its
    # public URL (settings.service_urls), so two services' consoles share one navigation.
    service: str = ""
    roles: tuple[Role, ...] = ()  # who sees the entry (empty: everyone the console admits)


class Console:
    """One service's console: prefix, templates, strings, navigation, sign-in rule."""

    def __init__(self, *, name: str, prefix: str, templates_dir: Path, locales_dir: Path, home: str,
                 sign_in: str, roles: Sequence[Role], nav: Sequence[NavItem] = (),
                 static_dirs: Sequence[Path] = (), globals: Callable[[Page], dict] | None = None,
                 service: str = "", role_taglines: Sequence[Role] = ()) -> None:
        self.name, self.prefix, self.home, self.sign_in = name, prefix, home, sign_in
        # Roles shown another console's name here (`console.tagline_<role>`): an operator on
        # audit's calibration page is in the operator console, its navigation and its name.
        self.role_taglines = tuple(role_taglines)
        self.service = service  # the service that serves this console (links to others are absolute)
        self.roles = tuple(roles)
        self.nav = tuple(nav)
        self.locales = (SHARED_LOCALES, locales_dir)
        self.static_dirs = (*static_dirs, SHARED_STATIC)
        self.globals = globals
        env = Environment(loader=ChoiceLoader([FileSystemLoader(templates_dir), FileSystemLoader(SHARED_TEMPLATES)]),
                          autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.templates = Jinja2Templates(env=env)

    def translator(self, lang: str) -> Translator:
        return Translator(lang, self.locales)

    def href(self, item: NavItem) -> str:
        """An entry's link: a path on this console's service, else at the other's public URL."""
        if not item.service or item.service == self.service:
            return item.href
        return service_urls()[item.service].rstrip("/") + item.href

    def nav_for(self, principal: Principal | None) -> list[tuple[NavItem, str]]:
        return [(item, self.href(item)) for item in self.nav
                if principal is not None and (not item.roles or principal.role in item.roles)]

    def tagline_key(self, principal: Principal | None) -> str:
        if principal is not None and principal.role in self.role_taglines:
            return f"console.tagline_{principal.role.value}"
        return "console.tagline"

    def home_href(self, principal: Principal | None) -> str:
        """Where the console's name leads: the first entry of the person's navigation."""
        entries = self.nav_for(principal)
        return entries[0][1] if entries else f"{self.prefix}/"

    def router(self, *, assets: bool = False) -> APIRouter:
        """A router of this console's pages (HTML answers); one of them (`assets=True`) also
        serves the static files under `<prefix>/static/`."""
        console = self

        class ConsoleRoute(PageRoute):
            pass

        ConsoleRoute.console = console
        router = APIRouter(prefix=self.prefix, include_in_schema=False, route_class=ConsoleRoute)
        if assets:
            self._add_assets(router)
        return router

    def _add_assets(self, router: APIRouter) -> None:
        console = self

        @router.get("/static/{name}")
        async def static(name: str) -> FileResponse:
            if "/" in name or "\\" in name or name.startswith("."):
                raise NotFound(name)
            for directory in console.static_dirs:
                path = directory / name
                if path.is_file():
                    response = FileResponse(path)
                    response.headers["cache-control"] = "public, max-age=3600"
                    return response
            raise NotFound(name)

    # -- errors --------------------------------------------------------------------------------

    def error_page(self, request: Request, exc: DomainError) -> HTMLResponse:
        page = page_for(request)
        status = request.app.state.errors[exc.code].status if exc.code in request.app.state.errors else 500
        if exc.code == CsrfFailed.code:
            heading, message = page.t("errors.csrf_title"), page.t("errors.csrf")
        elif status == 404:
            heading, message = page.t("errors.not_found_title"), page.t("errors.not_found")
        else:
            heading, message = page.t("errors.generic_title"), page.problem(exc)
        return page.render("error.html", status_code=status, title=heading, heading=heading, message=message)


class PageRoute(APIRoute):
    """Answers in HTML: redirects and domain errors become pages; cookies and headers are set."""

    console: Console

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        console = self.console

        async def page_handler(request: Request) -> Response:
            request.state.console = console
            try:
                if request.method not in SAFE_METHODS:
                    check_origin(request)
                response = await handler(request)
            except Redirect as redirect:
                response = RedirectResponse(redirect.url, status_code=303)
            except DomainError as exc:
                response = console.error_page(request, exc)
            page: Page | None = getattr(request.state, "page", None)
            if page is not None:
                page.set_cookies(response)
            # The other security headers come from the request context middleware.
            response.headers.setdefault("cache-control", "no-store")
            response.headers.setdefault("content-security-policy", CSP)
            return response

        return page_handler


@dataclass
class Page:
    """One request's page context: language, translator, CSRF token, who is signed in."""

    console: Console
    request: Request
    lang: str
    t: Translator
    csrf: str  # the token this page's forms carry (bound to the session, see csrf_token)
    principal: Principal | None
    nonce: str = ""  # the anonymous nonce (cookie `wwc_csrf`)
    new_csrf: bool = False
    remember_lang: bool = False
    cookies: list[tuple[str, str | None, dict]] = field(default_factory=list)
    # The viewer's own time zone when the console knows it (a city's pages: the city's);
    # every moment on the page is then shown in it, named.
    timezone: str | None = None

    @property
    def runtime(self):
        return self.request.app.state.runtime

    # -- cookies ------------------------------------------------------------------------------

    def _secure(self) -> bool:
        return self.request.url.scheme == "https"

    def set_cookie(self, name: str, value: str | None, **kwargs: Any) -> None:
        """Queue a cookie for the response (None deletes it)."""
        self.cookies.append((name, value, kwargs))

    def set_cookies(self, response: Response) -> None:
        if self.new_csrf:
            response.set_cookie(CSRF_COOKIE, self.nonce, httponly=True, samesite="lax", path=self.console.prefix,
                                secure=self._secure())
        if self.remember_lang:
            response.set_cookie(LANG_COOKIE, self.lang, max_age=365 * 24 * 3600, samesite="lax", path="/",
                                secure=self._secure())
        for name, value, kwargs in self.cookies:
            if value is None:
                response.delete_cookie(name, path=kwargs.get("path", "/"))
            else:
                response.set_cookie(name, value, secure=self._secure(), **kwargs)

    def _secret(self) -> str:
        return self.request.app.state.auth_settings.secret

    def bind_csrf(self, session: str | None) -> None:
        """The forms' token for this session (None: the anonymous nonce)."""
        self.csrf = csrf_token(self._secret(), session=session, nonce=self.nonce)

    def rotate_csrf(self, session: str | None = None) -> None:
        """A fresh anonymous nonce (no fixation) and the token for `session`."""
        self.nonce, self.new_csrf = secrets.token_urlsafe(32), True
        self.bind_csrf(session)

    def sign_in_as(self, principal: Principal, token: str, ttl_seconds: int, language: str | None = None) -> None:
        """Start a session: the token cookie, a fresh CSRF token (no fixation) and, unless the
        person chose a language here already, their preferred one."""
        self.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", path="/", max_age=ttl_seconds)
        self.rotate_csrf(session=token)
        self.principal = principal
        if LANG_COOKIE not in self.request.cookies and not self.remember_lang and language in languages():
            self.lang, self.t, self.remember_lang = language, self.console.translator(language), True

    def sign_out(self) -> None:
        self.set_cookie(TOKEN_COOKIE, None, path="/")
        self.rotate_csrf()

    # -- forms --------------------------------------------------------------------------------

    async def form(self) -> FormData:
        """The posted (url-encoded) form, after checking its CSRF token."""
        form = await self.request.form(**FORM_LIMITS)
        self.check_csrf(str(form.get(CSRF_FIELD, "")))
        return form

    def check_csrf(self, token: str) -> None:
        """The form's token must be the one of this request's session (and its origin ours)."""
        check_origin(self.request)
        expected = csrf_token(self._secret(), session=self._session(), nonce=self.request.cookies.get(CSRF_COOKIE, ""))
        if not token or (self._session() is None and len(self.request.cookies.get(CSRF_COOKIE, "")) < 32) \
                or not hmac.compare_digest(expected, token):
            raise CsrfFailed("The form could not be accepted.")

    def _session(self) -> str | None:
        """The session a request's forms are bound to: its (valid) session cookie."""
        return self.request.cookies.get(TOKEN_COOKIE) if self.principal is not None else None

    def parse(self, model: type[M], values: dict[str, Any], *, messages: str,
              inputs: dict[str, str] | None = None, **params: Any) -> tuple[M | None, list[FieldError]]:
        """A form's values as the API's model, or the fields it refuses: one error per field,
        on its input (`inputs` maps a model field to its input's id where they differ), worded
        by the page's strings `<messages>.<field>` (`<messages>.<field>_long` for a text over
        its limit, `<messages>.<field>_link` for a name carrying a link, when there is one),
        formatted with `params`."""
        try:
            return model.model_validate(values), []
        except ValidationError as exc:
            errors: dict[str, FieldError] = {}
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                key = f"{messages}.{name}"
                if error["type"] in ("string_too_long", "too_long") and self.t.has(f"{key}_long"):
                    key = f"{key}_long"
                elif error["type"] == LINK_IN_NAME and self.t.has(f"{key}_link"):
                    key = f"{key}_link"
                errors.setdefault(name, FieldError((inputs or {}).get(name, name) or None, self.t(key, **params)))
            return None, list(errors.values())

    def check_upload_csrf(self) -> None:
        """Multipart forms carry the token in their action's query string, so a forged
        upload is refused before its body is read."""
        self.check_csrf(self.request.query_params.get(CSRF_FIELD, ""))

    # -- messages -----------------------------------------------------------------------------

    def problem(self, exc: DomainError, **params: Any) -> str:
        """A domain error as a sentence in the page's language, chosen by its code."""
        key = f"problems.{exc.code}"
        if not self.t.has(key):
            key = "problems.internal_error"
        return self.t(key, **{**exc.params, **params})

    # -- rendering ----------------------------------------------------------------------------

    def url(self, path: str, **params: Any) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{path}{('&' if '?' in path else '?') + query if query else ''}"

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
            "csrf": self.csrf,
            "principal": self.principal,
            "console": self.console,
            "languages": [(code, language_name(code), self.url_with_lang(code)) for code in languages()],
            "language_name": language_name,
            # A state or province by its ISO 3166-2 code, in the page's language.
            "place_name": lambda code: places.name(code, self.lang),
            # A time zone by its place, generic name and offset: "Chicago (Central Time, UTC−06:00)".
            "zone_name": lambda zone: zone_label(zone, self.lang) if zone else "",
            # The viewer's zone and its place, for times a script writes (the live bar).
            "viewer_zone": self.timezone or "UTC",
            "viewer_place": self._viewer_place(),
            "static_url": lambda name: f"{self.console.prefix}/static/{name}",
            "fmt_dt": (lambda value: format_moment(value, self.timezone, self.lang)) if self.timezone
            else format_datetime,
            "flash": self.t(flash_key) if done.isidentifier() and self.t.has(flash_key) else None,
            "errors": [],
            "field_errors": {},
        }
        if self.console.globals:
            base.update(self.console.globals(self))
        base.update(context)
        if base["errors"] and not base["field_errors"]:
            base["field_errors"] = {e.field: e.message for e in base["errors"] if e.field}
        return self.console.templates.TemplateResponse(self.request, template, base, status_code=status_code)

    def _viewer_place(self) -> str:
        """The viewer's zone by its place; UTC when none is chosen or it is no longer known."""
        try:
            return zone_place(self.timezone, self.lang) if self.timezone else "UTC"
        except LookupError:
            return "UTC"

    def redirect(self, path: str, done: str | None = None) -> RedirectResponse:
        return RedirectResponse(self.url(path, done=done), status_code=303)


def page_for(request: Request) -> Page:
    """The page context of this request (made once, kept on `request.state`)."""
    existing = getattr(request.state, "page", None)
    if existing is not None:
        return existing
    console: Console = request.state.console
    query_lang = request.query_params.get("lang")
    lang = choose_language(query_lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    nonce = request.cookies.get(CSRF_COOKIE, "")
    page = Page(console=console, request=request, lang=lang, t=console.translator(lang), csrf="",
                principal=optional_principal(request), nonce=nonce,
                remember_lang=bool(query_lang) and query_lang.lower() in languages())
    if len(nonce) < 32:
        page.rotate_csrf(session=page._session())
    else:
        page.bind_csrf(page._session())
    request.state.page = page
    return page


PageContext = Annotated[Page, Depends(page_for)]


def signed_in(request: Request) -> Page:
    """A page for someone signed in with one of the console's roles; anyone else is sent to
    the console's sign-in page (back here afterwards for a GET)."""
    page = page_for(request)
    principal = page.principal
    console = page.console
    if principal is None or principal.role not in console.roles or (principal.role == Role.CITY
                                                                     and not principal.city_id):
        if request.method != "GET":  # a form posted after the session ended: start from home
            raise Redirect(console.sign_in)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect(f"{console.sign_in}?{urlencode({'next': target})}")
    return page


SignedInPage = Annotated[Page, Depends(signed_in)]


@contextmanager
def redirect_on(*errors: type[DomainError], to: str, done: str | None = None) -> Iterator[None]:
    """The one "redirect on conflict" rule: if the block raises one of `errors`, answer 303
    to `to` (with a flash message key) instead of an error page. E.g. a form posted to a
    draft that a colleague submitted meanwhile lands on the read-only page with a notice."""
    try:
        yield
    except errors as exc:
        url = to if not done else f"{to}{'&' if '?' in to else '?'}done={done}"
        raise Redirect(url) from exc


def safe_next(target: str | None, console: Console) -> str:
    """Only a path of this console may be a redirect target after sign-in (no open redirect)."""
    if target and target.startswith(console.prefix + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return console.home


def format_moment(value: datetime | str | None, zone: str, lang: str) -> str:
    """A moment as the viewer reads it: in their zone, in their language, the zone named
    by its place ("6 Dec 2026, 18:59 (New York)")."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return format_datetime(value)
    local = value.astimezone(tz)
    when = (f"{babel_dates.format_date(local, 'medium', locale=lang)}, "
            f"{babel_dates.format_time(local, 'short', locale=lang)}")
    return f"{when} ({zone_place(zone, lang)})"


def format_datetime(value: datetime | str | None) -> str:
    """A date and time every language reads the same way: 2026-03-01 14:05 UTC."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")

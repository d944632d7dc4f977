"""Signing in to a console that is not intake's: the auditor console, the operator view,
the booking pages. Intake owns accounts, so the console asks intake's token API
(`POST /api/v1/auth/token`, throttled there) on the person's behalf and keeps the token in
its session cookie; every console then works the same way (`shared.web.pages`).

`IdentityClient` is built from `WWC_IDENTITY_URL` (default: intake's URL); the in-process
test harness hands it a transport to intake's app instead of a network.

Intake throttles failed sign-ins per client address, so the console tells it whose address
it asks for: the person's, in `X-WWC-Console-Client`, vouched for by `X-WWC-Console-Proof`
(an HMAC under a key derived from the platform secret, over the address and the time). Intake
believes the address only with a fresh, valid proof (`vouched_client`): no one else can
choose the address they are counted under, and each console user has their own limits.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.errors import DomainError, RateLimited, Unavailable
from shared.infra.auth import verify_token
from shared.infra.settings import CommonSettings, service_urls
from shared.web.pages import Console, FieldError, PageContext, safe_next


class SignInFailed(DomainError):
    code = "sign_in_failed"


CONSOLE_CLIENT = "x-wwc-console-client"
CONSOLE_PROOF = "x-wwc-console-proof"
PROOF_MAX_AGE_SECONDS = 60


def _proof(secret: str, client: str, stamp: int) -> str:
    key = hmac.new(secret.encode(), b"wwc-console-client", hashlib.sha256).digest()
    return hmac.new(key, f"{client}|{stamp}".encode(), hashlib.sha256).hexdigest()


def console_client_headers(secret: str, client: str, *, now: float | None = None) -> dict[str, str]:
    """The headers with which a console tells intake whose address it signs in for."""
    stamp = int(time.time() if now is None else now)
    return {CONSOLE_CLIENT: client, CONSOLE_PROOF: f"{stamp}.{_proof(secret, client, stamp)}"}


def vouched_client(request: Request, secret: str, *, now: float | None = None) -> str | None:
    """The person's address a console vouched for, or None (no, a stale or a forged proof)."""
    client, proof = request.headers.get(CONSOLE_CLIENT), request.headers.get(CONSOLE_PROOF, "")
    stamp, _, digest = proof.partition(".")
    if not client or not stamp.isdigit() or len(client) > 100:
        return None
    if abs((time.time() if now is None else now) - int(stamp)) > PROOF_MAX_AGE_SECONDS:
        return None
    return client if hmac.compare_digest(_proof(secret, client, int(stamp)), digest) else None


class IdentityClient:
    def __init__(self, base_url: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = (base_url or CommonSettings().identity_url or service_urls()["intake"]).rstrip("/")
        self.transport = transport

    async def token(self, email: str, password: str, *, client: str | None = None, secret: str = "") -> str:
        """A token for these credentials, or SignInFailed / RateLimited / Unavailable.
        `client`: the person's address, vouched for with the platform `secret`."""
        headers = console_client_headers(secret, client) if client and secret else {}
        try:
            async with httpx.AsyncClient(base_url=self.base_url, transport=self.transport, timeout=15) as http:
                r = await http.post("/api/v1/auth/token", json={"email": email, "password": password},
                                    headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable("The sign-in service cannot be reached; try again in a moment.") from exc
        if r.status_code == 200:
            return r.json()["access_token"]
        code = r.json().get("code") if r.headers.get("content-type", "").endswith("json") else None
        if code == "rate_limited":
            raise RateLimited("Too many failed sign-ins.", retry_after=int(r.headers.get("retry-after", "60")))
        if r.status_code in (401, 422):
            raise SignInFailed("The email or password is not correct.")
        raise Unavailable(f"The sign-in service answered {r.status_code}.")


def identity(request: Request) -> IdentityClient:
    return request.app.state.identity


def sign_in_router(console: Console) -> APIRouter:
    """`<prefix>/sign-in` (form, then back to where the person was going) and
    `<prefix>/sign-out` for a console whose people sign in with their platform account."""
    router = console.router()

    @router.get("/sign-in")
    async def sign_in_form(page: PageContext) -> HTMLResponse:
        return page.render("session_sign_in.html", title=page.t("session.title"), email="",
                           next=page.request.query_params.get("next", ""))

    @router.post("/sign-in")
    async def sign_in(page: PageContext) -> Response:
        form = await page.form()
        email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
        next_url = str(form.get("next", ""))
        errors = []
        if not email:
            errors.append(FieldError("email", page.t("session.errors.email")))
        if not password:
            errors.append(FieldError("password", page.t("session.errors.password")))
        status = 422
        if not errors:
            client = page.request.client.host if page.request.client else None
            try:
                token = await identity(page.request).token(
                    email, password, client=client, secret=page.request.app.state.auth_settings.secret)
            except (SignInFailed, RateLimited) as exc:
                errors.append(FieldError("email", page.problem(exc)))
                status = 429 if isinstance(exc, RateLimited) else 422
            else:
                settings = page.request.app.state.auth_settings
                principal = verify_token(token, settings)
                if principal.role not in console.roles:
                    errors.append(FieldError("email", page.t("session.errors.role")))
                else:
                    page.sign_in_as(principal, token, settings.token_ttl_minutes * 60)
                    return page.redirect(safe_next(next_url, console))
        return page.render("session_sign_in.html", status_code=status, title=page.t("session.title"),
                           email=email, next=next_url, errors=errors)

    @router.post("/sign-out")
    async def sign_out(page: PageContext) -> RedirectResponse:
        await page.form()
        page.sign_out()
        return page.redirect(console.sign_in, done="signed_out")

    return router

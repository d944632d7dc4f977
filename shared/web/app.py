"""A service's web application: its routers, the operations routes every service has
(health, readiness, metrics, AsyncAPI, parked messages), problem+json for every error and
the request context. The runtime (shared/infra/runtime.py) knows nothing of HTTP."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shared.contracts.asyncapi import document as asyncapi_document
from shared.errors import NotFound
from shared.infra.auth import Role, require_roles
from shared.infra.consumer import list_parked, replay_parked
from shared.infra.logging import get_logger
from shared.infra.metrics import scrape_access
from shared.infra.outbox import backlog
from shared.infra.runtime import ServiceRuntime
from shared.infra.settings import AuthSettings, CommonSettings
from shared.web.middleware import RequestContextMiddleware
from shared.web.problems import COMMON_ERRORS, ErrorTable, install_openapi, install_problem_handlers
from shared.web.signin import IdentityClient

log = get_logger(__name__)


def ops_router(runtime: ServiceRuntime) -> APIRouter:
    """Health, readiness, metrics and the parked-message console every service has."""
    router = APIRouter(tags=["operations"])
    operator = Depends(require_roles(Role.OPERATOR))
    scraper = Depends(scrape_access(runtime.settings.telemetry, production=CommonSettings().env == "production"))

    @router.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "service": runtime.name}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ok = all(v.startswith("ok") for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "service": runtime.name, "checks": checks},
                            status_code=200 if ok else 503)

    # For a Prometheus scraper, not API clients: kept out of the OpenAPI document.
    @router.get("/metrics", include_in_schema=False, dependencies=[scraper])
    async def metrics(request: Request) -> Response:
        body, content_type = await runtime.metrics.scrape(
            readiness=runtime.readiness, backlog=lambda: backlog(runtime.db),
            timeout=runtime.settings.service.readiness_probe_timeout_seconds,
            accept=request.headers.get("accept", ""))
        return Response(body, headers={"content-type": content_type})

    @router.get("/asyncapi.json", summary="AsyncAPI document of every event subject")
    async def asyncapi() -> dict:
        return asyncapi_document()

    @router.get("/ops/parked", dependencies=[operator])
    async def parked(include_replayed: bool = False) -> list[dict]:
        rows = await list_parked(runtime.db, include_replayed=include_replayed)
        return [{**r, "body": withhold_tokens(r["body"]),
                 "parked_at": r["parked_at"].isoformat() if r["parked_at"] else None,
                 "replayed_at": r["replayed_at"].isoformat() if r["replayed_at"] else None} for r in rows]

    @router.post("/ops/parked/{parked_id}/replay", dependencies=[operator])
    async def replay(parked_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> dict:
        try:
            return await replay_parked(runtime.db, runtime.consumers, parked_id)
        except LookupError as exc:
            raise NotFound(str(exc)) from exc

    return router


# A link's single-use token (a registration's confirmation, a signed download): operators
# reading a parked message see that there was one, never the token itself.
_TOKEN_IN_LINK = re.compile(r"([?&](?:token|signature|sig)=)[^&\"'\s<>]+")


def withhold_tokens(text: str) -> str:
    return _TOKEN_IN_LINK.sub(r"\1[withheld]", text or "")


def check_secrets(auth: AuthSettings, common: CommonSettings) -> None:
    """Anyone can mint tokens with a secret from the repository: refuse it everywhere but in
    the test suite (`WWC_ENV=test`). `make run` generates one per install (var/auth-secret)."""
    if not auth.is_development_secret:
        return
    if common.env != "test":
        raise RuntimeError("WWC_AUTH_SECRET is a placeholder published in the repository; set a real secret "
                           "(at least 32 random characters, e.g. `openssl rand -hex 32`); `make run` writes one "
                           "to var/auth-secret on its first start")
    log.warning("auth.development_secret", hint="tests only: the published development secret")


def create_app(runtime: ServiceRuntime, routers: Sequence[APIRouter] = (), *, title: str = "",
               errors: ErrorTable | None = None) -> FastAPI:
    """The service's app: its routers, the operations routes, problem+json for every error
    (`errors`: the service's own code table) and the request context (correlation id)."""
    check_secrets(runtime.settings.auth, CommonSettings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime.start_background()
        yield
        await runtime.stop()

    app = FastAPI(title=title or f"WWC {runtime.name}", lifespan=lifespan, version="1",
                  telemetry=runtime.tracing.fastapi_telemetry())
    app.state.runtime = runtime
    app.state.auth_settings = runtime.settings.auth
    app.state.identity = IdentityClient()  # consoles sign people in through intake's API
    install_problem_handlers(app, errors or COMMON_ERRORS)
    app.add_middleware(RequestContextMiddleware, metrics=runtime.metrics)
    trusted = [h.strip() for h in CommonSettings().trusted_proxies.split(",") if h.strip()]
    if trusted:  # outermost, so everything after sees the real client and scheme
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    app.include_router(ops_router(runtime))
    for r in routers:
        app.include_router(r)
    install_openapi(app)
    return app

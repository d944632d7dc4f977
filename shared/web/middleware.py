"""The outermost layer of every service's app: a correlation id per request, security
headers on every response, the request's metrics, and the last word on an unexpected
exception.

The id comes from `X-Correlation-ID` when a caller sends a sane one, else it is new; it is
bound to every log line of the request (structlog contextvars), kept in
`request.state.correlation_id`, and returned in the response header. An exception nothing
else handled is logged with its traceback and answered as a problem+json 500 that carries
only that id: the operator searches the logs for it, the caller learns nothing internal.

Every request is timed into the service's `wwc_http_request_duration_seconds` by its
route template (`/api/v1/submissions/{submission_id}`, never the raw path; a path no route
matched is `(unmatched)`), method and status; when tracing is on, the correlation id is
added to the request's span (which FastAPI's native telemetry opens around this layer).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.infra import tracing
from shared.infra.logging import bound_contextvars, get_logger
from shared.infra.metrics import ServiceMetrics
from shared.web.problems import problem_response

HEADER = "x-correlation-id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
log = get_logger(__name__)

# Every response carries these unless its route set its own (consoles set a page CSP).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    # JSON answers need nothing loaded, framed or submitted.
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from their CDN.
DOCS_CSP = ("default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
            "style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src https://fastapi.tiangolo.com data:; "
            "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'")
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")


UNMATCHED = "(unmatched)"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        sent = Headers(scope=scope).get(HEADER, "")
        cid = sent if _SANE.match(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = cid
        tracing.annotate(**{tracing.CORRELATION_ID: cid})
        started = False
        status = 500  # until a response says otherwise (e.g. the client went away first)

        docs = scope.get("path") in DOCS_PATHS

        async def send_with_id(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[HEADER] = cid
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, DOCS_CSP if docs and name == "content-security-policy" else value)
            await send(message)

        with bound_contextvars(correlation_id=cid):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("http.unhandled_error", method=scope.get("method"), path=scope.get("path"))
                if started:  # the status line is out: nothing better than dropping the body
                    raise
                response = problem_response(Request(scope), "internal_error")
                await response(scope, receive, send_with_id)
            finally:
                if self.metrics is not None:
                    self.metrics.observe_http(self._template(scope), scope.get("method", ""), status,
                                              time.perf_counter() - began)

    def _template(self, scope: Scope) -> str:
        """The matched route's full path template. FastAPI includes routers lazily, so the
        route in the scope knows only its path inside its router: the full one comes from
        the app's route contexts (read once, and again when a route appears later)."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        template = self._templates.get(id(route))
        if template is None:
            app: Any = scope.get("app")
            if app is not None:
                self._templates.update({id(ctx.original_route): ctx.path
                                        for ctx in iter_route_contexts(app.routes) if ctx.path})
            template = self._templates.setdefault(id(route), getattr(route, "path_format", None) or UNMATCHED)
        return template

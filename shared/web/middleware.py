"""The outermost layer of every service's app: a correlation id per request, and the last
word on an unexpected exception.

The id comes from `X-Correlation-ID` when a caller sends a sane one, else it is new; it is
bound to every log line of the request (structlog contextvars), kept in
`request.state.correlation_id`, and returned in the response header. An exception nothing
else handled is logged with its traceback and answered as a problem+json 500 that carries
only that id: the operator searches the logs for it, the caller learns nothing internal.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.infra.logging import bound_contextvars, get_logger
from shared.web.problems import problem_response

HEADER = "x-correlation-id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
log = get_logger(__name__)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get(HEADER, "")
        cid = sent if _SANE.match(sent) else uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = cid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[HEADER] = cid
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

"""problem+json (RFC 9457) at the HTTP edge of every service.

One `ErrorTable` per service maps each domain error `code` to its HTTP status and title
(the common codes below plus the service's own). The handlers turn domain errors,
validation errors, Starlette's HTTP errors and anything unexpected into bodies of the
same shape: `type`, `title`, `status`, `code`, `detail`, `errors: [{field, reason}]`,
`instance`, `correlation_id`, plus the error's own parameters. An unexpected exception is
logged with the request's correlation id and answered as a bare 500 carrying that id:
nothing internal reaches the body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError
from shared.infra.logging import get_logger

PROBLEM = "application/problem+json"
log = get_logger(__name__)


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    title: str


class ErrorTable(Mapping[str, ErrorSpec]):
    """code -> (status, title): the only place a domain error meets HTTP."""

    def __init__(self, entries: Mapping[str, tuple[int, str]]) -> None:
        self._specs = {code: ErrorSpec(status, title) for code, (status, title) in entries.items()}

    def __getitem__(self, code: str) -> ErrorSpec:
        return self._specs[code]

    def __iter__(self):
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __or__(self, other: ErrorTable) -> ErrorTable:
        merged = ErrorTable({})
        merged._specs = {**self._specs, **other._specs}
        return merged

    def responses(self, *errors: str | type[DomainError]) -> dict[int | str, dict[str, Any]]:
        """FastAPI `responses=` for an operation: each status it may answer, with the codes
        behind it (description and one example per code), all as problem+json."""
        codes: list[str] = []
        for item in errors:
            found = sorted(item.codes()) if isinstance(item, type) else [item]
            codes += [c for c in found if c not in codes]
        by_status: dict[int, list[str]] = {}
        for code in codes:
            by_status.setdefault(self[code].status, []).append(code)
        out: dict[int | str, dict[str, Any]] = {}
        for status, group in sorted(by_status.items()):
            out[status] = {
                "description": "; ".join(f"`{c}`: {self[c].title}" for c in group),
                "content": {PROBLEM: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {c: {"summary": self[c].title, "value": {
                        "type": problem_type(c), "title": self[c].title, "status": status, "code": c}}
                        for c in group},
                }},
            }
        return out


COMMON_ERRORS = ErrorTable({
    "invalid_input": (422, "Invalid input"),
    "malformed_request": (400, "Malformed request"),
    "not_authenticated": (401, "Not authenticated"),
    "token_expired": (401, "Token expired"),
    "invalid_token": (401, "Invalid token"),
    "forbidden": (403, "Forbidden"),
    "csrf_failed": (403, "Form expired"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "payload_too_large": (413, "Payload too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "rate_limited": (429, "Too many requests"),
    "internal_error": (500, "Internal error"),
    "unavailable": (503, "Service unavailable"),
    "busy": (503, "Busy: try again in a moment"),
})
# Seconds a client is asked to wait when the service is momentarily saturated.
BUSY_RETRY_AFTER = 2

# Starlette's own HTTP errors (routing, methods) by status.
_HTTP_CODES = {400: "malformed_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
               429: "rate_limited", 503: "unavailable"}


class ProblemField(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details. `code` is stable and machine-readable (see the table in
    this API's description); `errors` names each bad field and why; `correlation_id` is
    what operators search the logs for."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "urn:wwc:problem:invalid_input", "title": "Invalid input", "status": 422,
        "code": "invalid_input", "detail": "population: Input should be greater than 0",
        "errors": [{"field": "population", "reason": "Input should be greater than 0"}],
        "correlation_id": "6f1c0a5e2b7d4c0e9a8f3d2b1c0a9e8f",
    }]})

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemField] = Field(default_factory=list)
    correlation_id: str | None = None


def problem_type(code: str) -> str:
    return f"urn:wwc:problem:{code}"


def problem_body(code: str, spec: ErrorSpec, *, detail: str = "", errors: Iterable[dict] = (),
                 params: Mapping[str, Any] | None = None, instance: str = "",
                 correlation_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": problem_type(code), "title": spec.title, "status": spec.status,
                            "code": code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body["errors"] = [{**e, "field": str(e.get("field", "")), "reason": str(e.get("reason", ""))} for e in errors]
    for key, value in (params or {}).items():
        body.setdefault(key, value)
    if correlation_id:
        body["correlation_id"] = correlation_id
    return body


def correlation_id(request: Request) -> str | None:
    return getattr(request.state, "correlation_id", None)


def problem_response(request: Request, code: str, *, detail: str = "", errors: Iterable[dict] = (),
                     params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
                     ) -> JSONResponse:
    table: ErrorTable = getattr(request.app.state, "errors", COMMON_ERRORS)
    if code not in table:  # a programming error: say so in the log, answer a plain 500
        log.error("problem.unknown_code", code=code)
        code, detail, errors, params = "internal_error", "", (), None
    spec = table[code]
    body = problem_body(code, spec, detail=detail, errors=errors, params=params, instance=request.url.path,
                        correlation_id=correlation_id(request))
    return JSONResponse(_jsonable(body), status_code=spec.status, media_type=PROBLEM, headers=dict(headers or {}))


def _jsonable(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(body, default=str))


def _location(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        # A syntax error is not a field's fault: name the body, not a byte offset.
        return problem_response(request, "malformed_request", detail="The request body is not valid JSON.",
                                errors=[{"field": "body", "reason": "not valid JSON"}])
    errors = [{"field": _location(e["loc"]), "reason": e["msg"]} for e in raw]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return problem_response(request, "invalid_input", detail=detail, errors=errors)


def install_problem_handlers(app: FastAPI, table: ErrorTable = COMMON_ERRORS) -> None:
    app.state.errors = COMMON_ERRORS | table

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"Retry-After": str(exc.params["retry_after"])} if "retry_after" in exc.params else None
        return problem_response(request, exc.code, detail=exc.detail, errors=exc.errors, params=exc.params,
                                headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(request, exc)

    @app.exception_handler(SQLAlchemyTimeout)
    async def _pool_exhausted(request: Request, exc: SQLAlchemyTimeout) -> JSONResponse:
        # Every database connection was in use for the whole pool timeout: a clear,
        # retryable answer rather than a stall or a bare 500.
        log.warning("db.pool_exhausted", path=request.url.path)
        return problem_response(request, "busy", detail="All database connections are in use; try again shortly.",
                                headers={"Retry-After": str(BUSY_RETRY_AFTER)})

    @app.exception_handler(OperationalError)
    async def _database_locked(request: Request, exc: OperationalError) -> JSONResponse:
        if "database is locked" not in str(exc.orig):
            raise exc
        log.warning("db.locked", path=request.url.path)
        return problem_response(request, "busy", detail="The database is busy; try again shortly.",
                                headers={"Retry-After": str(BUSY_RETRY_AFTER)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "internal_error" if exc.status_code >= 500 else "malformed_request")
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found",) else ""
        return problem_response(request, code, detail=detail, headers=exc.headers)


def install_openapi(app: FastAPI) -> None:
    """The Problem schema in components, the table of every code this service answers in the
    API's description (so a client can branch on `code`, never on `title`), and on every
    operation the errors it really answers (see `_document_errors`)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        table: ErrorTable = app.state.errors
        rows = "\n".join(f"| `{code}` | {spec.status} | {spec.title} |"
                         for code, spec in sorted(table._specs.items(), key=lambda kv: (kv[1].status, kv[0])))
        description = (f"{app.description}\n\n" if app.description else "") + (
            "Every error is `application/problem+json` with a stable `code`:\n\n"
            "| code | status | title |\n|---|---|---|\n" + rows)
        schema = get_openapi(title=app.title, version=app.version, description=description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components["Problem"]["properties"]["code"]["enum"] = sorted(table)
        defs = components["Problem"].pop("$defs", {})
        components.update(defs)
        _document_errors(app, schema, table)
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _roles_of(dependant) -> tuple | None:
    """The roles a route's `require_roles` dependency admits, if it has one."""
    for dep in dependant.dependencies:
        roles = getattr(dep.call, "roles", None) or _roles_of(dep)
        if roles:
            return roles
    return None


def _document_errors(app: FastAPI, schema: dict[str, Any], table: ErrorTable) -> None:
    """What every operation may answer besides its own documented errors: bad input as
    problem+json (FastAPI's default 422 body is not what we send), a body that is not JSON
    (400), and for a secured operation 401 and, when it admits only some roles, 403."""
    from shared.web.routes import api_routes

    roles = {(method.lower(), path): _roles_of(route.dependant) for method, path, route in api_routes(app)}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            added: list[str] = []
            if "422" in responses or op.get("parameters") or op.get("requestBody"):
                if "application/problem+json" not in responses.get("422", {}).get("content", {}):
                    responses.pop("422", None)
                    added.append("invalid_input")
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                added.append("malformed_request")
            if op.get("security"):
                added += ["not_authenticated", "token_expired", "invalid_token"]
                admitted = roles.get((method, path))
                if admitted:
                    added.append("forbidden")
                    op["description"] = (op.get("description", "") + "\n\nFor the role(s): "
                                         + ", ".join(f"`{r.value}`" for r in admitted) + ".").strip()
            for status, entry in table.responses(*[c for c in added if c in table]).items():
                key = str(status)
                if key not in responses:
                    responses[key] = entry
                else:  # the operation documents this status already: add the codes it lacks
                    examples = responses[key].setdefault("content", {}).setdefault(PROBLEM, {
                        "schema": {"$ref": "#/components/schemas/Problem"}}).setdefault("examples", {})
                    for code, example in entry["content"][PROBLEM]["examples"].items():
                        if code not in examples:
                            examples[code] = example
                            responses[key]["description"] += f"; `{code}`: {table[code].title}"

"""Every service answers every error as problem+json with a stable code: domain errors,
bad input, unknown routes and methods, and an unexpected exception (a bare 500 that
carries only a correlation id, which the log line carries too)."""

from __future__ import annotations

import importlib
import json

import httpx
import pytest
import structlog
from structlog.testing import LogCapture

from devtools.harness import Infra, service_settings
from services.intake.errors import __all__ as intake_errors
from services.intake.problems import ERRORS as INTAKE_ERRORS
from shared.errors import DomainError
from shared.infra.settings import SERVICES
from shared.web.problems import COMMON_ERRORS, PROBLEM

FAKE = Infra(nats_url="nats://127.0.0.1:1", temporal_address="127.0.0.1:1", s3_endpoint="127.0.0.1:1",
             s3_access_key="k", s3_secret_key="s", smtp_port=1)


def build(name: str, tmp_path):
    settings = service_settings(name, FAKE, backend="sqlite", tmp=tmp_path, tag="unit")
    _, app = importlib.import_module(f"services.{name}.main").build(settings)
    return app


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://test")


@pytest.fixture
def captured():
    """Log events as the services emit them, with the request's bound context merged in."""
    capture = LogCapture()
    old = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    yield capture.entries
    structlog.configure(**old)


@pytest.mark.parametrize("name", SERVICES)
async def test_an_unexpected_exception_is_a_problem_with_a_correlation_id(name, tmp_path, captured):
    app = build(name, tmp_path)

    async def boom() -> dict:
        raise RuntimeError("password=hunter2 at /srv/secret/path.py")

    app.add_api_route("/boom", boom)
    async with client(app) as c:
        r = await c.get("/boom")
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "internal_error" and body["title"] == "Internal error"
    assert body["correlation_id"] == r.headers["x-correlation-id"]
    assert "hunter2" not in r.text and "secret" not in r.text and "RuntimeError" not in r.text
    [logged] = [e for e in captured if e["event"] == "http.unhandled_error"]
    assert logged["correlation_id"] == body["correlation_id"] and logged["path"] == "/boom"


@pytest.mark.parametrize("name", SERVICES)
async def test_routing_and_body_errors_are_problems(name, tmp_path):
    app = build(name, tmp_path)
    async with client(app) as c:
        r = await c.get("/no/such/route", headers={"x-correlation-id": "caller-chosen-id-1"})
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
        assert r.json()["correlation_id"] == "caller-chosen-id-1" == r.headers["x-correlation-id"]
        r = await c.delete("/healthz")
        assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed") and "GET" in r.headers["allow"]
        r = await c.post("/ops/parked/9223372036854775808/replay")
        assert r.status_code in (401, 422) and r.headers["content-type"] == PROBLEM


async def test_a_json_syntax_error_names_the_body_not_a_byte_offset(tmp_path):
    app = build("intake", tmp_path)
    async with client(app) as c:
        r = await c.post("/api/v1/auth/token", content=b'{"email": "a@b.c", ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "malformed_request" and r.json()["errors"] == [{"field": "body", "reason": "not valid JSON"}]


def test_every_intake_error_has_a_status_and_title():
    table = COMMON_ERRORS | INTAKE_ERRORS
    import services.intake.errors as module

    def raised_by_intake(cls) -> set[str]:
        # Shared classes have subclasses in other services too (audit's own InvalidInput
        # kinds); only intake's and the shared ones are intake's to answer.
        if not cls.__module__.startswith(("services.intake", "shared.")):
            return set()
        found = set(getattr(cls, "all_codes", (cls.code,)))
        return found.union(*(raised_by_intake(sub) for sub in cls.__subclasses__()))

    classes = [getattr(module, name) for name in intake_errors]
    codes = set().union(*(raised_by_intake(cls) for cls in classes if issubclass(cls, DomainError)))
    assert codes - set(table) == set()
    assert all(spec.status >= 400 and spec.title for spec in table.values())


@pytest.mark.parametrize("name", SERVICES)
async def test_openapi_documents_the_codes(name, tmp_path):
    app = build(name, tmp_path)
    async with client(app) as c:
        doc = (await c.get("/openapi.json")).json()
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["properties"]["code"]["enum"]) >= set(COMMON_ERRORS)
    assert "`internal_error`" in doc["info"]["description"]
    if name == "intake":
        assert set(problem["properties"]["code"]["enum"]) >= set(INTAKE_ERRORS)
        save = doc["paths"]["/api/v1/assessments/{cycle}/responses/{criterion_id}"]["put"]["responses"]
        assert "edit_conflict" in save["409"]["content"][PROBLEM]["examples"]
        assert "version_required" in save["428"]["description"]
        json.dumps(doc)  # serialisable


def test_an_unknown_review_mode_is_refused_at_start_up(monkeypatch):
    from pydantic import ValidationError

    from services.intake.config import IntakeOptions

    monkeypatch.setenv("WWC_INTAKE_REVIEW_MODE", "automatic")
    with pytest.raises(ValidationError, match="review_mode"):
        IntakeOptions()
    monkeypatch.setenv("WWC_INTAKE_REVIEW_MODE", "auditor")
    assert IntakeOptions().review_mode == "auditor"


@pytest.mark.parametrize("lang", ["en", "es", "pt"])
async def test_the_portal_shows_every_error_code_translated(lang, tmp_path):
    """A page whose use case fails shows the code's message in the page's language (no
    title or English sentence is ever matched)."""
    from services.intake.portal import PORTAL

    app = build("intake", tmp_path)
    router = PORTAL.router()
    table = COMMON_ERRORS | INTAKE_ERRORS

    @router.get("/fail/{code}")
    async def fail(code: str):
        raise type("Failure", (DomainError,), {"code": code})("an English detail nobody reads", name="Springfield",
                                                                limit_mb="25", updated_by_name="Ana")

    app.include_router(router)
    t = PORTAL.translator(lang)
    async with client(app) as c:
        for code, spec in table.items():
            r = await c.get(f"/portal/fail/{code}", params={"lang": lang})
            assert r.status_code == spec.status and r.headers["content-type"].startswith("text/html"), code
            assert "an English detail" not in r.text, code
            if spec.status == 404:
                expected = t("errors.not_found")
            elif code == "csrf_failed":
                expected = t("errors.csrf")
            else:
                expected = t(f"problems.{code}", name="Springfield", limit_mb="25", updated_by_name="Ana")
            assert expected in r.text.replace("&#39;", "'"), (code, expected)

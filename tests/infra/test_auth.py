"""JWT issue/verify and role checks (tokens are issued by intake, verified everywhere)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from shared.errors import DomainError
from shared.infra.auth import Principal, Role, issue_token, require_roles, verify_token
from shared.infra.settings import AuthSettings
from shared.web.problems import install_problem_handlers

SETTINGS = AuthSettings(secret="s" * 40)


def test_round_trip_keeps_role_and_city():
    token = issue_token(Principal(sub="u1", role=Role.CITY, city_id="c1", name="Ana"), SETTINGS)
    p = verify_token(token, SETTINGS)
    assert (p.sub, p.role, p.city_id, p.name) == ("u1", Role.CITY, "c1", "Ana")
    assert p.can_see_city("c1") and not p.can_see_city("c2")
    assert Principal(sub="a", role=Role.AUDITOR).can_see_city("c2")


def signed(claims: dict) -> str:
    """A token with valid signature, issuer and expiry, carrying whatever claims we like."""
    return jwt.encode({"iss": SETTINGS.issuer, "exp": 9999999999, **claims}, SETTINGS.secret, algorithm="HS256")


@pytest.mark.parametrize("mutate, code", [
    (lambda t: issue_token(Principal(sub="u", role=Role.OPERATOR), AuthSettings(secret="x" * 40)), "invalid_token"),
    (lambda t: issue_token(Principal(sub="u", role=Role.OPERATOR), SETTINGS, ttl=timedelta(seconds=-1)),
     "token_expired"),
    (lambda t: t[:-4] + "AAAA", "invalid_token"),
    (lambda t: signed({"sub": "u", "role": "city"}), "invalid_token"),  # a city token names its city
    # Validly signed, but claims we never issue: refused, never a crash.
    (lambda t: signed({"sub": "u", "role": "superuser"}), "invalid_token"),
    (lambda t: signed({"sub": "u"}), "invalid_token"),
    (lambda t: signed({"sub": "u", "role": "city", "city_id": 42}), "invalid_token"),
    (lambda t: signed({"sub": "u", "role": "city", "city_id": ["c1"]}), "invalid_token"),
    (lambda t: signed({"sub": "u", "role": "operator", "name": {"x": 1}}), "invalid_token"),
])
def test_bad_tokens_are_refused(mutate, code):
    good = issue_token(Principal(sub="u", role=Role.OPERATOR), SETTINGS)
    with pytest.raises(DomainError) as err:
        verify_token(mutate(good), SETTINGS)
    assert err.value.code == code


async def test_role_dependency_answers_problem_json():
    app = FastAPI()
    app.state.auth_settings = SETTINGS
    install_problem_handlers(app)

    @app.get("/ops", dependencies=[Depends(require_roles(Role.OPERATOR))])
    async def ops() -> dict:
        return {"ok": True}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/ops")).status_code == 401
        city = issue_token(Principal(sub="u", role=Role.CITY, city_id="c"), SETTINGS)
        r = await client.get("/ops", headers={"authorization": f"Bearer {city}"})
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "forbidden"
        odd = signed({"sub": "u", "role": "city", "city_id": 7})
        r = await client.get("/ops", headers={"authorization": f"Bearer {odd}"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
        op = issue_token(Principal(sub="u", role=Role.OPERATOR), SETTINGS)
        assert (await client.get("/ops", headers={"authorization": f"Bearer {op}"})).json() == {"ok": True}
        # The consoles' session cookie is no key to the API (a page of another origin could
        # otherwise write with a signed-in browser's cookie).
        client.cookies.set("wwc_token", op)
        r = await client.get("/ops", headers={"origin": "http://127.0.0.1:8004"})
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_production_refuses_a_development_secret(monkeypatch):
    from shared.web.app import check_secrets
    from shared.infra.settings import CommonSettings

    monkeypatch.setenv("WWC_ENV", "production")
    with pytest.raises(RuntimeError, match="WWC_AUTH_SECRET"):
        check_secrets(AuthSettings(), CommonSettings())
    with pytest.raises(RuntimeError):
        check_secrets(AuthSettings(secret="change-me-dev-only-auth-secret-0123456789abcdef"), CommonSettings())
    check_secrets(AuthSettings(secret="k" * 48), CommonSettings())  # a real secret is fine
    monkeypatch.setenv("WWC_ENV", "test")
    check_secrets(AuthSettings(), CommonSettings())  # the test suite: a warning only

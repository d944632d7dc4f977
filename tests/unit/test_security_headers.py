"""Every response carries the security headers; cookies are Secure behind a trusted TLS
proxy and only there."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.test_problems import build, client

EXPECTED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


@pytest.mark.parametrize("name", ["intake", "audit", "scoring", "reporting", "notify"])
async def test_every_service_sends_the_headers(name, tmp_path):
    app = build(name, tmp_path)
    async with client(app) as c:
        for path in ("/healthz", "/no/such/route", "/openapi.json"):
            r = await c.get(path)
            assert {k: r.headers.get(k) for k in EXPECTED} == EXPECTED, path
            assert "default-src 'none'" in r.headers["content-security-policy"], path
        docs = await c.get("/docs")
        assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]


async def test_console_pages_keep_their_own_policy(tmp_path):
    async with client(build("intake", tmp_path)) as c:
        r = await c.get("/portal/sign-in")
    assert r.headers["content-security-policy"].startswith("default-src 'self'; script-src 'none'")
    assert {k: r.headers.get(k) for k in EXPECTED} == EXPECTED


async def test_cookies_are_secure_behind_a_trusted_proxy_only(tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_TRUSTED_PROXIES", "10.0.0.7")
    app = build("intake", tmp_path)

    async def sign_in_page(client_ip: str, proto: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
            return await c.get("/portal/sign-in", headers={"x-forwarded-proto": proto, "x-forwarded-for": "203.0.113.9"})

    behind_proxy = await sign_in_page("10.0.0.7", "https")
    assert "secure" in behind_proxy.headers["set-cookie"].lower()
    spoofed = await sign_in_page("198.51.100.4", "https")  # not the proxy: its headers mean nothing
    assert "secure" not in spoofed.headers["set-cookie"].lower()

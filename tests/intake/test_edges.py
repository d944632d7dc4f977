"""Closed vocabularies and abuse limits at intake's edge (issue 18): a cycle is one of the
catalog's open cycles; names carrying URLs are refused; registration and invitations are
throttled per address and per client; failed sign-ins slow down one (account, client)
pair without locking the account out for its owner elsewhere."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from services.intake.models import PendingRegistration, Submission
from tests.intake.helpers import CATALOG, YES_ALL, city_data, draft, register

PROBLEM = "application/problem+json"


def field_errors(r) -> dict[str, str]:
    assert r.headers["content-type"].startswith(PROBLEM), r.text
    return {e["field"]: e["reason"] for e in r.json().get("errors", [])}


async def test_a_cycle_that_is_not_open_is_refused_and_opens_no_review(intake):
    client, _ = await draft(intake)
    assert "1999" not in CATALOG.cycles
    for method, path, body in (("POST", "/api/v1/assessments/1999/submit", None),
                               ("POST", "/api/v1/assessments/1999", None),
                               ("POST", "/api/v1/snapshots/1999", {"answers": YES_ALL})):
        r = await client.request(method, path, json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["code"] == "invalid_cycle"
        assert "open cycle" in field_errors(r)["cycle"]
    async with intake.runtimes["intake"].db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
    # An open cycle still works.
    other, _ = await register(intake, "Shelbyville")
    assert (await other.post("/api/v1/snapshots/2027", json={"answers": YES_ALL})).status_code == 201


async def test_names_carrying_links_are_refused_with_the_field(intake):
    anon = intake.client("intake")
    for field, value in (("name", "Springfield - claim your grant at https://evil.example/x"),
                         ("name", "Springfield www.evil.example"),
                         ("contact_name", "Jordan (see evil.example/win)"),
                         ("contact_name", "write to jordan@evil.example")):
        r = await anon.post("/api/v1/cities", json={**city_data("Springfield"), field: value})
        assert r.status_code == 422, (field, value, r.text)
        assert r.json()["code"] == "invalid_input"
        assert "web or e-mail address" in field_errors(r)[field]
    # Names with dots that are no links are names.
    assert (await anon.post("/api/v1/cities", json=city_data("St. Louis", contact_name="Jordan J. Lee"))
            ).status_code == 202
    client, city = await register(intake, "Ogden")
    r = await client.post(f"/api/v1/cities/{city['id']}/users",
                          json={"email": "kim@ogden.gov", "name": "Kim http://evil.example", "password": "x" * 12})
    assert r.status_code == 422 and "name" in field_errors(r)


async def test_registration_and_invitations_are_throttled_per_address_and_per_client(make_intake):
    intake = await make_intake(registration_limits_per_address="3/hour", registration_limits_per_client="6/hour")
    body = await intake.register_city(city_data("Inviteville"))  # one of this client's six
    anon = intake.client("intake")
    # 15 registrations naming one victim's address: three go through, then 429.
    codes = [(await anon.post("/api/v1/cities", json=city_data(f"Town{i}", contact_email="victim@city.gov")))
             for i in range(15)]
    assert [r.status_code for r in codes] == [202] * 3 + [429] * 12
    assert codes[-1].json()["code"] == "rate_limited" and int(codes[-1].headers["retry-after"]) > 0
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        asked = await session.scalar(select(func.count()).select_from(PendingRegistration)
                                     .where(PendingRegistration.email == "victim@city.gov"))
    assert asked == 3
    # The same client, other addresses: its own window (6 an hour) stops it too.
    more = [(await anon.post("/api/v1/cities", json=city_data(f"Other{i}"))).status_code for i in range(4)]
    assert more == [202] * 2 + [429] * 2
    # Another client is not affected by this one.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=intake.apps["intake"],
                                                               client=("198.51.100.9", 5000)),
                                 base_url="http://intake") as other:
        assert (await other.post("/api/v1/cities", json=city_data("Elsewhere"))).status_code == 202
    # Invitations count the same way, per invited address (from a client with room left).
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=intake.apps["intake"],
                                                               client=("192.0.2.50", 5000)),
                                 base_url="http://intake",
                                 headers={"authorization": f"Bearer {body['token']['access_token']}"}) as inviter:
        invites = [(await inviter.post(f"/api/v1/cities/{body['city']['id']}/users",
                                       json={"email": "colleague@city.gov", "name": "Kim", "password": "x" * 12})
                    ).status_code for _ in range(4)]
    assert invites == [202] * 3 + [429]


async def test_console_sign_ins_count_against_each_persons_own_address(infra, backend, tmp_path):
    """A console signs people in through intake on their behalf: each person is counted
    under their own address (vouched for by the console), so one person failing through the
    console slows only themselves, and nobody can pick the address they are counted under."""
    from devtools.harness import Stack
    from services.intake.config import IntakeOptions
    from shared.infra.auth import Role

    stack = Stack(infra=infra, backend=backend, tmp=tmp_path, services=("intake", "notify"),
                  build_kwargs={"intake": {"options": IntakeOptions(
                      review_mode="auditor", sign_in_free_failures=1, sign_in_delay_seconds=60,
                      sign_in_limits_per_client="5/minute")}})
    await stack.start()
    try:
        await stack.create_staff("ana@wwc.org", "Ana Auditor", Role.AUDITOR, password="auditor-password-1")

        def browser(address: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.apps["notify"], client=(address, 1234)),
                                     base_url="http://notify")

        async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> int:
            page = await client.get("/slots/sign-in")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = await client.post("/slots/sign-in", data={"email": email, "password": password, "csrf_token": token})
            return r.status_code

        async with browser("203.0.113.66") as attacker, browser("198.51.100.20") as ana:
            # The attacker fails on Ana's account and on others, through the console.
            codes = [await sign_in(attacker, "ana@wwc.org", "wrong-password") for _ in range(3)]
            assert codes[0] == 422 and codes[-1] == 429
            for i in range(6):
                await sign_in(attacker, f"who{i}@nowhere.gov", "guess")
            # Ana, at her own address, signs in through the same console at once.
            assert await sign_in(ana, "ana@wwc.org", "auditor-password-1") == 303
        # Asking intake directly with a made-up console address changes nothing: no proof.
        direct = stack.client("intake")
        for i in range(6):
            await direct.post("/api/v1/auth/token", json={"email": f"x{i}@nowhere.gov", "password": "guess"},
                              headers={"x-wwc-console-client": f"10.0.0.{i}", "x-wwc-console-proof": "1.forged",
                                       "x-forwarded-for": f"10.0.1.{i}"})
        r = await direct.post("/api/v1/auth/token", json={"email": "ana@wwc.org", "password": "auditor-password-1"})
        assert r.status_code == 429
    finally:
        await stack.stop()


async def test_the_portal_says_in_the_readers_language_that_a_name_cannot_carry_a_link(intake):
    words = {"en": "A city's name cannot contain a web or e-mail address",
             "es": "El nombre de la ciudad no puede contener una dirección web ni de correo",
             "pt": "O nome da cidade não pode conter um endereço web nem de e-mail"}
    for lang, sentence in words.items():
        async with intake.client("intake") as browser:
            page = await browser.get(f"/portal/register?lang={lang}")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            form = {**city_data("Springfield"), "name": "Springfield, see https://evil.example/grant",
                    "population": "116250", "password_confirm": "correct-horse-battery", "csrf_token": token}
            r = await browser.post("/portal/register", data=form)
        assert r.status_code == 422, r.status_code
        assert sentence in r.text.replace("&#39;", "'"), lang

"""Cities register, staff sign in (Argon2, JWT), a city adds staff, and auditors and
operators are created from the CLI."""

from __future__ import annotations

import asyncio

import jwt
from sqlalchemy import select

from services.cli import main as wwc
from services.intake.models import City, User
from shared.infra.settings import AuthSettings
from devtools.harness import PG_URL
from tests.intake.helpers import city_data, problem, register


async def test_registration_validates_each_field(intake):
    anon = intake.client("intake")
    bad = city_data(population=0, country="USA", contact_email="not-an-email", password="short")
    del bad["contact_name"]
    body = problem(await anon.post("/api/v1/cities", json=bad), 422)
    fields = {e["field"]: e["reason"] for e in body["errors"]}
    assert set(fields) == {"population", "country", "contact_email", "password", "contact_name"}
    assert all(reason for reason in fields.values())

    body = problem(await anon.post("/api/v1/cities", json=city_data(state="Atlantis")), 422)
    assert body["errors"] == [{"field": "state", "reason": "name a US state (e.g. IL or Illinois)"}]
    body = problem(await anon.post("/api/v1/cities", json=city_data(state="")), 422)
    assert body["errors"][0]["field"] == "state"

    async with intake.runtimes["intake"].db.sessionmaker() as session:
        assert (await session.scalars(select(City))).all() == []


async def test_register_derives_region_and_band_and_refuses_duplicates(intake):
    anon = intake.client("intake")
    r = await anon.post("/api/v1/cities", json=city_data("Riverton", state="Illinois", population=112_000))
    assert r.status_code == 201, r.text
    city = r.json()["city"]
    assert (city["region"], city["population_band"], city["state"]) == ("Midwest", "100K-250K", "Illinois")
    claims = jwt.decode(r.json()["token"]["access_token"], AuthSettings().secret, algorithms=["HS256"],
                        issuer="wwc-intake")
    assert claims["role"] == "city" and claims["city_id"] == city["id"]

    r = await anon.post("/api/v1/cities", json=city_data("Northbay", state="ON", country="ca", population=45_000))
    assert (r.json()["city"]["region"], r.json()["city"]["population_band"]) == ("Canada", "30K-100K")
    assert r.json()["city"]["country"] == "CA"

    body = problem(await anon.post("/api/v1/cities", json=city_data("riverton", state="Illinois",
                                                                     contact_email="other@riverton.gov")), 409)
    assert "already registered" in body["detail"]
    body = problem(await anon.post("/api/v1/cities", json=city_data("Elsewhere", contact_email="DATA@riverton.gov")), 409)
    assert body["errors"] == [{"field": "contact_email", "reason": "an account with this email already exists"}]


async def test_sign_in_and_failures(intake):
    client, city = await register(intake)
    anon = intake.client("intake")
    r = await anon.post("/api/v1/auth/token", json={"email": "Data@Springfield.gov", "password": "correct-horse-battery"})
    assert r.status_code == 200 and r.json()["city_id"] == city["id"] and r.json()["role"] == "city"

    wrong = problem(await anon.post("/api/v1/auth/token", json={"email": "data@springfield.gov", "password": "nope"}), 401)
    unknown = problem(await anon.post("/api/v1/auth/token", json={"email": "who@nowhere.gov", "password": "nope"}), 401)
    assert wrong["detail"] == unknown["detail"] == "The email or password is not correct."
    problem(await anon.post("/api/v1/auth/token", json={"email": "x"}), 422)
    problem(await anon.get("/api/v1/me"), 401)
    problem(await intake.client("intake", "not-a-token").get("/api/v1/me"), 401)

    me = (await client.get("/api/v1/me")).json()
    assert me["user"]["email"] == "data@springfield.gov" and me["city"]["name"] == "Springfield"
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        user = await session.scalar(select(User))
    assert user.password_hash.startswith("$argon2")


async def test_city_staff_add_a_colleague(intake):
    client, city = await register(intake)
    r = await client.post(f"/api/v1/cities/{city['id']}/users",
                          json={"email": "sam@springfield.gov", "name": "Sam Ortiz", "password": "another-long-secret"})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "city" and r.json()["city_id"] == city["id"]
    r = await intake.client("intake").post("/api/v1/auth/token",
                                           json={"email": "sam@springfield.gov", "password": "another-long-secret"})
    assert r.status_code == 200 and r.json()["city_id"] == city["id"]
    users = (await client.get(f"/api/v1/cities/{city['id']}/users")).json()
    assert sorted(u["email"] for u in users) == ["data@springfield.gov", "sam@springfield.gov"]
    assert "password_hash" not in users[0]

    body = problem(await client.post(f"/api/v1/cities/{city['id']}/users",
                                     json={"email": "sam@springfield.gov", "name": "Sam", "password": "x" * 12}), 409)
    assert body["errors"][0]["field"] == "email"
    body = problem(await client.post(f"/api/v1/cities/{city['id']}/users",
                                     json={"email": "kim@springfield.gov", "name": "Kim", "password": "short"}), 422)
    assert body["errors"][0]["field"] == "password"


async def test_cli_creates_auditor_and_operator(intake, monkeypatch, backend):
    """`wwc user create` against the same database the service uses."""
    rt = intake.runtimes["intake"]
    if backend == "postgres":
        monkeypatch.setenv("WWC_INTAKE_DB_URL", PG_URL)
        monkeypatch.setenv("WWC_INTAKE_DB_SCHEMA", rt.settings.service.db_schema)
    else:
        monkeypatch.setenv("WWC_INTAKE_DB_URL", rt.settings.service.db_url)
    monkeypatch.setenv("WWC_NEW_USER_PASSWORD", "auditor-password-1")
    code = await asyncio.to_thread(wwc, ["user", "create", "--email", "ana@wwc.org", "--name", "Ana", "--role", "auditor"])
    assert code == 0
    monkeypatch.setenv("WWC_NEW_USER_PASSWORD", "operator-password-1")
    assert await asyncio.to_thread(wwc, ["user", "create", "--email", "op@wwc.org", "--role", "operator"]) == 0
    # The same email again is refused with a clear message, not a traceback.
    assert await asyncio.to_thread(wwc, ["user", "create", "--email", "ana@wwc.org", "--role", "auditor"]) == 2

    anon = intake.client("intake")
    r = await anon.post("/api/v1/auth/token", json={"email": "ana@wwc.org", "password": "auditor-password-1"})
    assert r.status_code == 200 and r.json()["role"] == "auditor" and r.json()["city_id"] is None
    r = await anon.post("/api/v1/auth/token", json={"email": "op@wwc.org", "password": "operator-password-1"})
    assert r.status_code == 200 and r.json()["role"] == "operator"
    # Staff accounts cannot act as a city.
    auditor = intake.client("intake", r.json()["access_token"])
    problem(await auditor.post("/api/v1/snapshots/2026", json={"answers": {}}), 403)

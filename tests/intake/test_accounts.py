"""Cities register, staff sign in (Argon2, JWT), a city adds staff, and auditors and
operators are created from the CLI."""

from __future__ import annotations

import asyncio

import httpx
import jwt
from sqlalchemy import select

from services.cli import main as wwc
from services.intake.models import City, User
from shared.contracts.events import Subject
from shared.infra.tables import outbox
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
    assert body["code"] == "unknown_state"
    assert body["errors"] == [{"field": "state", "reason": "not a state or province of US: choose one of its "
                                                          "ISO 3166-2 codes, e.g. US-AL"}]
    body = problem(await anon.post("/api/v1/cities", json=city_data(state="")), 422)
    assert body["errors"][0]["field"] == "state"

    async with intake.runtimes["intake"].db.sessionmaker() as session:
        assert (await session.scalars(select(City))).all() == []


async def test_register_by_confirmed_address_derives_region_and_band(intake):
    anon = intake.client("intake")
    r = await anon.post("/api/v1/cities", json=city_data("Riverton", state="Illinois", population=112_000))
    assert r.status_code == 202 and r.json()["status"] == "confirmation_sent" and r.json()["email"] == "data@riverton.gov"
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        assert (await session.scalars(select(City))).all() == []  # nothing until the address is confirmed
    link = await intake.registration_link("data@riverton.gov")
    assert link.startswith("http") and "/portal/register/confirm?token=" in link
    token = link.split("token=", 1)[1]
    r = await anon.post("/api/v1/cities/confirm", json={"token": token})
    assert r.status_code == 201, r.text
    city = r.json()["city"]
    # The legacy spelling is stored as its ISO 3166-2 code.
    assert (city["region"], city["population_band"], city["state"]) == ("Midwest", "100K-250K", "US-IL")
    claims = jwt.decode(r.json()["token"]["access_token"], AuthSettings().secret, algorithms=["HS256"],
                        issuer="wwc-intake")
    assert claims["role"] == "city" and claims["city_id"] == city["id"]
    # A link works once.
    body = problem(await anon.post("/api/v1/cities/confirm", json={"token": token}), 410)
    assert body["code"] == "registration_link_invalid"
    problem(await anon.post("/api/v1/cities/confirm", json={"token": "x" * 43}), 410)

    body = await intake.register_city(city_data("Northbay", state="ON", country="ca", population=45_000))
    assert (body["city"]["region"], body["city"]["population_band"], body["city"]["country"],
            body["city"]["state"]) == ("Canada", "30K-100K", "CA", "CA-ON")


async def test_registration_never_confirms_that_an_address_or_a_city_exists(intake, monkeypatch):
    """A taken address (a city's, or an auditor's) and a registered city answer exactly as a
    new one does, after the same work; only the address's owner learns it, by mail."""
    from services.intake import accounts

    await intake.register_city(city_data("Riverton"))
    async with intake.runtimes["intake"].db.transaction() as session:
        await accounts.create_staff_user(session, email="auditor@wwc.org", name="Ana", password="x" * 12,
                                         role=accounts.Role.AUDITOR)
    hashed: list[str] = []
    original = accounts.hash_password
    monkeypatch.setattr(accounts, "hash_password", lambda p: hashed.append(p) or original(p))
    anon = intake.client("intake")
    answers = {}
    for label, data in {"new": city_data("Elsewhere"),
                        "city staff address": city_data("Elsewhere", contact_email="DATA@riverton.gov"),
                        "auditor address": city_data("Elsewhere", contact_email="auditor@wwc.org"),
                        "registered city": city_data("riverton", contact_email="other@riverton.gov")}.items():
        r = await anon.post("/api/v1/cities", json=data)
        answers[label] = (r.status_code, {k: v for k, v in r.json().items() if k != "email"})
    assert len(set(map(repr, answers.values()))) == 1, answers
    assert answers["new"][0] == 202 and len(hashed) == 4  # the same work for each
    async with intake.runtimes["intake"].db.sessionmaker() as session:
        refused = [row.body["payload"] for row in (await session.execute(
            select(outbox.c.body).where(outbox.c.subject == Subject.REGISTRATION_REFUSED))).all()]
    assert sorted((p["email"], p["reason"]) for p in refused) == [
        ("auditor@wwc.org", "account_exists"), ("data@riverton.gov", "account_exists"),
        ("other@riverton.gov", "city_registered")]


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


async def test_city_staff_invite_a_colleague(intake):
    client, city = await register(intake)
    r = await client.post(f"/api/v1/cities/{city['id']}/users",
                          json={"email": "sam@springfield.gov", "name": "Sam Ortiz", "password": "another-long-secret"})
    assert r.status_code == 202 and r.json()["status"] == "confirmation_sent", r.text
    link = await intake.registration_link("sam@springfield.gov")
    r = await intake.client("intake").post("/api/v1/cities/confirm", json={"token": link.split("token=")[1]})
    assert r.status_code == 201 and r.json()["token"]["city_id"] == city["id"]
    r = await intake.client("intake").post("/api/v1/auth/token",
                                           json={"email": "sam@springfield.gov", "password": "another-long-secret"})
    assert r.status_code == 200 and r.json()["city_id"] == city["id"]
    users = (await client.get(f"/api/v1/cities/{city['id']}/users")).json()
    assert sorted(u["email"] for u in users) == ["data@springfield.gov", "sam@springfield.gov"]
    assert "password_hash" not in users[0]

    # Inviting an address that has an account answers the same (nothing is confirmed).
    again = await client.post(f"/api/v1/cities/{city['id']}/users",
                              json={"email": "sam@springfield.gov", "name": "Sam", "password": "x" * 12})
    assert again.status_code == 202 and again.json()["status"] == "confirmation_sent"
    body = problem(await client.post(f"/api/v1/cities/{city['id']}/users",
                                     json={"email": "kim@springfield.gov", "name": "Kim", "password": "short"}), 422)
    assert body["errors"][0]["field"] == "password"


async def test_failed_sign_ins_slow_one_client_and_never_lock_the_owner_out(make_intake):
    """Wrong passwords for one account from one client: a few free, then growing waits
    (429 with how long, the right password included); the owner signing in from another
    client is not slowed; a client failing on many accounts is stopped by its own limits."""
    intake = await make_intake(sign_in_free_failures=3, sign_in_delay_seconds=30, sign_in_limits_per_client="30/minute")
    await register(intake)
    attacker = intake.client("intake")
    wrong = {"email": "data@springfield.gov", "password": "wrong-password"}
    codes, waits = [], []
    for _ in range(6):
        r = await attacker.post("/api/v1/auth/token", json=wrong)
        codes.append(r.status_code)
        if r.status_code == 429:
            assert r.json()["code"] == "rate_limited"
            waits.append(int(r.headers["retry-after"]))
    assert codes == [401] * 4 + [429] * 2  # three free, the fourth sets a 30 s wait
    assert all(25 <= w <= 31 for w in waits), waits
    right = {"email": "data@springfield.gov", "password": "correct-horse-battery"}
    r = await attacker.post("/api/v1/auth/token", json=right)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 31
    # The owner, from their own client, signs in at once.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=intake.apps["intake"], client=("203.0.113.7", 4711)),
                                 base_url="http://intake") as owner:
        assert (await owner.post("/api/v1/auth/token", json=right)).status_code == 200
    # A client failing on many accounts is stopped by its own windows.
    for i in range(30):
        await attacker.post("/api/v1/auth/token", json={"email": f"who{i}@nowhere.gov", "password": "guess"})
    await register(intake, "Riverton")
    r = await attacker.post("/api/v1/auth/token", json={"email": "data@riverton.gov", "password": "correct-horse-battery"})
    assert r.status_code == 429


async def test_an_unknown_email_costs_a_password_check_too(intake, monkeypatch):
    from services.intake import accounts

    await register(intake)
    checked: list[str] = []
    original = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: checked.append(h) or original(h, p))
    anon = intake.client("intake")
    for email in ("data@springfield.gov", "nobody@nowhere.gov"):
        r = await anon.post("/api/v1/auth/token", json={"email": email, "password": "wrong-password"})
        assert r.status_code == 401 and r.json()["code"] == "sign_in_failed"
    assert len(checked) == 2 and all(h.startswith("$argon2") for h in checked)


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


async def test_a_state_is_an_iso_code_of_the_citys_country(intake):
    """Places, not spellings: what a city registers is its state's ISO 3166-2 code, the events
    other services keep carry it, and the API refuses what names no subdivision of the country."""
    anon = intake.client("intake")
    for country, state, reason in [
        ("US", "Atlantis", "not a state or province of US: choose one of its ISO 3166-2 codes, e.g. US-AL"),
        ("US", "ON", "not a state or province of US: choose one of its ISO 3166-2 codes, e.g. US-AL"),
        ("US", "CA-ON", "not a state or province of US: choose one of its ISO 3166-2 codes, e.g. US-AL"),
        ("CA", "", "choose the state or province (an ISO 3166-2 code of CA, e.g. CA-AB)"),
        ("BM", "Hamilton", "BM has no states or provinces: leave it empty"),
    ]:
        body = problem(await anon.post("/api/v1/cities", json=city_data("Elsewhere", country=country,
                                                                        state=state)), 422)
        assert (body["code"], body["errors"]) == ("unknown_state", [{"field": "state", "reason": reason}]), state

    client, toronto = await register(intake, "Toronto", country="CA", state="Ontario", population=2_800_000)
    assert (toronto["state"], toronto["region"], toronto["timezone"]) == ("CA-ON", "Canada", "America/Toronto")
    _, hamilton = await register(intake, "Hamilton", country="BM", state="", population=40_000)
    assert hamilton["state"] == ""

    # A city moves to another province of its own country; never to one of another country.
    facts = f"/api/v1/cities/{toronto['id']}/facts"
    r = await client.patch(facts, json={"state": "CA-QC", "reason": "registered in the wrong province"})
    assert r.status_code == 200 and r.json()["state"] == "CA-QC", r.text
    body = problem(await client.patch(facts, json={"state": "US-NY", "reason": "moved"}), 422)
    assert body["code"] == "unknown_state" and body["errors"][0]["field"] == "state"

    async with intake.runtimes["intake"].db.sessionmaker() as session:
        assert (await session.get(City, toronto["id"])).state == "CA-QC"
        told = [row.body["payload"]["state"] for row in (await session.execute(
            select(outbox.c.body).where(outbox.c.subject.in_([Subject.CITY_REGISTERED, Subject.CITY_UPDATED]))
            .order_by(outbox.c.seq))).all()]
    assert told == ["CA-ON", "", "CA-QC"]

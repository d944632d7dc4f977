"""`make run`'s last process: waits for every service, loads a demo cohort through the
public API (idempotently: a restart reuses what is there), prints the URLs, then idles
(honcho stops everything when any process exits)."""

from __future__ import annotations

import asyncio
import random
import sys

import httpx

from shared.infra.auth import Role
from devtools.mailbox import wait_for_link
from services.intake.errors import EmailTaken
from shared.infra.settings import SERVICES, CommonSettings, S3Settings, SmtpSettings, TemporalSettings, service_urls

DEMO_PASSWORD = "demo-password-2026"
# (name, state, country, population): a spread of regions and population bands.
DEMO_CITIES = [
    ("Riverton", "IL", "US", 112_000), ("Lakeside", "OH", "US", 64_000), ("Harbor City", "MA", "US", 310_000),
    ("Mesa Verde", "AZ", "US", 540_000), ("Pine Bluff", "GA", "US", 48_000), ("Cedar Falls", "TX", "US", 205_000),
    ("Northbay", "ON", "CA", 150_000), ("San Telmo", "", "MX", 420_000), ("Puerto Azul", "", "CO", 260_000),
    ("Bridgetown Norte", "", "BB", 33_000), ("Valle Alto", "", "CL", 95_000), ("Westfield", "WA", "US", 720_000),
]


def log(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


async def wait_ready(client: httpx.AsyncClient, urls: dict[str, str]) -> None:
    pending = set(urls)
    while pending:
        for name in sorted(pending):
            try:
                r = await client.get(f"{urls[name]}/readyz", timeout=3)
                if r.status_code == 200:
                    pending.discard(name)
                    log(f"{name} ready at {urls[name]}")
            except httpx.HTTPError:
                pass
        if pending:
            await asyncio.sleep(1)


async def token_for(client: httpx.AsyncClient, intake: str, city: tuple, i: int) -> str:
    """Sign in as the city's contact; register the city first (confirming the address by
    the link in the mail, as its staff would) if it is not there yet."""
    name, state, country, population = city
    email = f"staff{i}@{name.lower().replace(' ', '')}.demo"
    r = await client.post(f"{intake}/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD})
    if r.status_code == 200:
        return r.json()["access_token"]
    r = await client.post(f"{intake}/api/v1/cities", json={
        "name": name, "state": state, "country": country, "population": population,
        "contact_name": f"{name} Data Office", "contact_email": email, "password": DEMO_PASSWORD,
    })
    r.raise_for_status()
    token = (await wait_for_link(email)).split("token=", 1)[1]
    r = await client.post(f"{intake}/api/v1/cities/confirm", json={"token": token})
    r.raise_for_status()
    return r.json()["token"]["access_token"]


async def load_cohort(client: httpx.AsyncClient, intake: str, cycle: str) -> None:
    from shared.catalog.loader import load_catalog
    from services.intake.config import IntakeOptions

    catalog = load_catalog(IntakeOptions().catalog_version)
    rng = random.Random(2026)
    for i, city in enumerate(DEMO_CITIES):
        token = await token_for(client, intake, city, i)
        headers = {"authorization": f"Bearer {token}"}
        maturity = rng.uniform(0.2, 0.95)
        snap = await client.post(f"{intake}/api/v1/snapshots/{cycle}", headers=headers,
                                 json={"answers": {q.id: rng.random() < maturity for q in catalog.snapshot}})
        if snap.status_code not in (201, 409):  # 409: answered in an earlier run
            snap.raise_for_status()
        responses = {}
        for crit in catalog.criteria:
            roll = rng.random()
            answer = "YES" if roll < maturity else ("IN_PROGRESS" if roll < maturity + 0.15 else "NO")
            responses[crit.id] = {
                "response": answer,
                "narrative": f"{city[0]}: {answer.replace('_', ' ').lower()} for {crit.id}.",
                "links": [f"https://data.{city[0].lower().replace(' ', '')}.example/{crit.id.lower()}"]
                if answer == "YES" else [],
            }
        r = await client.put(f"{intake}/api/v1/assessments/{cycle}/responses", json={"responses": responses},
                             headers=headers)
        if r.status_code == 409:
            log(f"{city[0]} already submitted")
            continue
        r.raise_for_status()
        r = await client.post(f"{intake}/api/v1/assessments/{cycle}/submit", headers=headers)
        r.raise_for_status()
        log(f"{city[0]} submitted: {r.json()['id']}")


async def ensure_staff() -> None:
    from services.intake.cli import create_user

    for role in (Role.OPERATOR, Role.AUDITOR):
        try:
            await create_user(f"{role.value}@wwc.demo", f"Demo {role.value}", DEMO_PASSWORD, role)
        except EmailTaken:
            pass  # already there from an earlier run


def print_urls() -> None:
    urls = service_urls()
    common, temporal, s3, smtp = CommonSettings(), TemporalSettings(), S3Settings(), SmtpSettings()
    lines = [f"  {name:<10} {urls[name]}  (API docs: {urls[name]}/docs)" for name in SERVICES]
    lines += [
        f"  portal     {urls['intake']}/portal",
        f"  temporal   {temporal.ui_url}  (gRPC {temporal.address})",
        f"  s3         http://{s3.endpoint}",
        f"  smtp sink  {smtp.host}:{smtp.port}  (mail saved under {common.var_dir / 'mail'})",
        f"  sign in    operator@wwc.demo / auditor@wwc.demo, password {DEMO_PASSWORD}",
    ]
    print("\nWWC Certification platform is up:\n" + "\n".join(lines) + "\n", flush=True)


async def main() -> None:
    from services.intake.config import IntakeOptions

    urls = service_urls()
    async with httpx.AsyncClient(timeout=30) as client:
        await wait_ready(client, urls)
        await ensure_staff()
        await load_cohort(client, urls["intake"], IntakeOptions().current_cycle)
    print_urls()
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

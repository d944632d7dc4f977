"""`make run`'s last process: waits for every service, loads a demo cohort through the
public API (idempotently: a restart reuses what is there), plays three scripted auditors
through audit's API so the review console shows cases in every state (and the cases of the
double-review sample reviewed blind a second time, their differences resolved at sign-off,
so the calibration page has figures), books and declines
debriefs as two cities would, prints the URLs, then idles (honcho stops everything when any
process exits)."""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import UTC, datetime, timedelta

import httpx

from shared.infra.auth import Role
from devtools import actors
from devtools.mailbox import wait_for_link
from services.intake.errors import EmailTaken
from shared.infra.settings import SERVICES, CommonSettings, S3Settings, SmtpSettings, TemporalSettings, service_urls

DEMO_PASSWORD = "demo-password-2026"
# (name, state as its ISO 3166-2 code, country, population): a spread of regions and bands.
DEMO_CITIES = [
    ("Riverton", "US-IL", "US", 112_000), ("Lakeside", "US-OH", "US", 64_000),
    ("Harbor City", "US-MA", "US", 310_000), ("Mesa Verde", "US-AZ", "US", 540_000),
    ("Pine Bluff", "US-GA", "US", 48_000), ("Cedar Falls", "US-TX", "US", 205_000),
    ("Northbay", "CA-ON", "CA", 150_000), ("San Telmo", "MX-JAL", "MX", 420_000),
    ("Puerto Azul", "CO-BOL", "CO", 260_000), ("Bridgetown Norte", "BB-08", "BB", 33_000),
    ("Valle Alto", "CL-RM", "CL", 95_000), ("Westfield", "US-WA", "US", 720_000),
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


async def load_cohort(client: httpx.AsyncClient, intake: str, cycle: str,
                      tokens: dict[str, str] | None = None) -> dict[str, str]:
    """Every demo city registered and submitted; {city name: submission id}. Each city's
    token goes into `tokens` (by name) when given."""
    from shared.catalog.loader import load_catalog
    from services.intake.config import IntakeOptions

    catalog = load_catalog(IntakeOptions().catalog_version)
    rng = random.Random(2026)
    submissions: dict[str, str] = {}
    for i, city in enumerate(DEMO_CITIES):
        token = await token_for(client, intake, city, i)
        if tokens is not None:
            tokens[city[0]] = token
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
        else:
            r.raise_for_status()
        r = await client.post(f"{intake}/api/v1/assessments/{cycle}/submit", headers=headers)
        r.raise_for_status()  # 201 submitted now, 200 submitted in an earlier run
        submissions[city[0]] = r.json()["id"]
        log(f"{city[0]} submitted: {r.json()['id']}")
    return submissions


STAFF = [("operator@wwc.demo", "Olivia Operator", Role.OPERATOR), ("auditor@wwc.demo", "Ana Ramos", Role.AUDITOR),
         ("auditor2@wwc.demo", "Ben Okafor", Role.AUDITOR), ("auditor3@wwc.demo", "Cleo Mendes", Role.AUDITOR),
         # Dev and Eva took no part in any review: they decide and sign off the demo's appeal.
         ("auditor4@wwc.demo", "Dev Patel", Role.AUDITOR), ("auditor5@wwc.demo", "Eva Lindqvist", Role.AUDITOR)]


async def ensure_staff() -> None:
    from services.intake.cli import create_user

    for email, name, role in STAFF:
        try:
            await create_user(email, name, DEMO_PASSWORD, role)
        except EmailTaken:
            pass  # already there from an earlier run


# --- scripted auditors ------------------------------------------------------------------------

# What the demo auditors do with each city's case (by the city's place in DEMO_CITIES);
# the others wait in the queue. Ana reviews, Ben signs off. "answered": Ana asks about a
# criterion she decided, the city answers, and the decision shows "changed since decided".
# A case of the double-review sample (`make run` samples every case: WWC_AUDIT_DOUBLE_REVIEW_SHARE
# in the Procfile) that goes to sign-off is first reviewed blind by Cleo, who differs from Ana
# on two criteria (SECOND_VIEW); Ben resolves both before approving (RESOLUTIONS).
SCRIPT = {4: "in_review", 5: "answered", 6: "clarification", 7: "signoff", 8: "completed", 9: "completed",
          10: "returned"}
# Changes the reviewer makes (to the first criteria the city answered YES), with the reasons the city reads.
CHANGES = [
    ("IN_PROGRESS", "documents_not_submitted",
     "The response was changed from YES to IN PROGRESS because the requested documents (the policy and its "
     "adoption record) were not submitted for review.",
     "The adopted policy, with the record of its adoption."),
    ("NO", "not_citywide",
     "The evidence shows the practice in the police and transport departments only; the criterion asks for it "
     "citywide.",
     "Evidence that every department follows the practice."),
]


# Cleo's blind second review, on the criteria Ana changed (by their place among those the city
# answered YES): she agrees on the first, finds the second in progress rather than absent, and
# the third (which Ana confirmed) not shown by current evidence.
SECOND_VIEW = {
    0: CHANGES[0],
    1: ("IN_PROGRESS", "still_in_development",
        "The rollout plan in the evidence extends the practice to every department this year; it is under way.",
        "Evidence that every department follows the practice."),
    2: ("NO", "outdated_evidence",
        "The only document is from 2019; nothing in the evidence shows the practice today.",
        "Evidence of the practice from the last twelve months."),
}
# Ben's resolution of each difference at sign-off (by the same places).
RESOLUTIONS = {
    1: ("keep_first", "A rollout plan is not the practice citywide: the evidence names two departments only."),
    2: ("take_second", "The second review is right: the 2019 document does not show the practice today."),
}


async def sign_in(client: httpx.AsyncClient, intake: str, email: str) -> str:
    r = await client.post(f"{intake}/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD})
    r.raise_for_status()
    return r.json()["access_token"]


async def play_auditors(client: httpx.AsyncClient, urls: dict[str, str], submissions: dict[str, str],
                        tokens: dict[str, str] | None = None) -> None:
    """Ana and Ben work through the cases of the cohort as SCRIPT says, through audit's API
    as `devtools.actors.Auditor` (the same scripted auditor the tests and benchmarks use);
    the cities answer with their `tokens` (by name). A case that is no longer waiting in
    the queue was scripted by an earlier run and is left as it is."""
    names = {sid: name for name, sid in submissions.items()}
    served = actors.Served(urls)
    ana = actors.Auditor(served, await sign_in(client, urls["intake"], STAFF[1][0]), name=STAFF[1][1])
    ben = actors.Auditor(served, await sign_in(client, urls["intake"], STAFF[2][0]), name=STAFF[2][1])
    cleo = actors.Auditor(served, await sign_in(client, urls["intake"], STAFF[3][0]), name=STAFF[3][1])
    wanted = {submissions[DEMO_CITIES[i][0]]: plan for i, plan in SCRIPT.items() if DEMO_CITIES[i][0] in submissions}

    async def opened() -> dict[str, str | None] | None:
        # Cases open as each workflow passes its evidence check.
        states = {sid: await ana.case_status(sid) for sid in wanted}
        return states if all(states.values()) else None

    try:
        states = await actors.eventually(opened, timeout=120, interval=1, what="the demo cases")
    except TimeoutError:
        states = {sid: await ana.case_status(sid) for sid in wanted}
    for sid in (sid for sid, state in states.items() if state == "queued"):
        plan = wanted[sid]
        await ana.claim(sid)
        case = await ana.case(sid)
        yes = [c["criterion_id"] for c in case["criteria"] if c["submitted"] == "YES"]
        for (response, reason, why, satisfy), cid in zip(CHANGES, yes, strict=False):
            await ana.decide(sid, actors.Change(cid, response, reason, why, satisfy))
        if plan == "clarification":
            await ana.ask_city(sid, yes[:1], "Please send the adopted policy and the record of its adoption.")
        if plan == "answered" and tokens and names.get(sid) in tokens:
            await city_answers(client, urls, ana, sid, yes[0], tokens[names[sid]])
            await ana.confirm_remaining(sid)
        if plan in ("signoff", "completed", "returned"):
            await ana.confirm_remaining(sid)
            double = case["second_review"]["double_review"]
            if double:
                await blind_second_review(ana, cleo, sid, case, yes)
            decisions_hash = await ana.request_signoff(sid)
            if plan == "completed":
                if double:
                    for place, (outcome, note) in RESOLUTIONS.items():
                        if place < len(yes) and await differs(ben, sid, yes[place]):
                            await ben.resolve(sid, yes[place], outcome, note)
                    decisions_hash = await ben.signoff_hash(sid)  # taking a second decision changed it
                await ben.approve(sid, decisions_hash)
            elif plan == "returned":
                await ben.return_signoff(
                    sid, f"{yes[0]}: say which document you looked for, so the city knows what to send.")
        log(f"{case['case']['city_name']}: {plan.replace('_', ' ')}")


async def blind_second_review(ana: actors.Auditor, cleo: actors.Auditor, sid: str, case: dict,
                              yes: list[str]) -> None:
    """Ana gives the double-reviewed case to Cleo (once audit knows her), who decides every
    criterion blind: as SECOND_VIEW says on those, as submitted on the rest."""
    cleo_id = await actors.eventually(lambda: ana.auditor_id(STAFF[3][0]), timeout=60, interval=0.5,
                                      what="audit knowing the third demo auditor")
    await ana.choose_second_reviewer(sid, cleo_id)
    mine = {yes[place]: view for place, view in SECOND_VIEW.items() if place < len(yes)}
    for crit in case["criteria"]:
        cid = crit["criterion_id"]
        if cid in mine:
            response, reason, why, satisfy = mine[cid]
            await cleo.decide_blind(sid, cid, response, actors.Change(cid, response, reason, why, satisfy))
        else:
            await cleo.decide_blind(sid, cid, crit["submitted"])


async def differs(auditor: actors.Auditor, sid: str, criterion: str) -> bool:
    return any(d["criterion_id"] == criterion for d in (await auditor.second_review(sid))["differences"])


async def city_answers(client: httpx.AsyncClient, urls: dict[str, str], ana: actors.Auditor, sid: str,
                       criterion: str, token: str) -> None:
    """Ana asks about a criterion she decided; the city answers through intake; audit gets
    the answer (an event) and marks her decision changed since decided."""
    asked = await ana.ask_city(sid, [criterion], "Please send the adopted policy and the record of its adoption.")
    answer = {"answers": {criterion: {"narrative": "The policy was adopted by the council last month; the record "
                                                   "of the vote is online.",
                                      "links": ["https://council.example/records/policy-adoption"]}}}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while loop.time() < deadline:  # intake learns of the request from audit's event
        r = await client.post(f"{urls['intake']}/api/v1/submissions/{sid}/clarifications/{asked['id']}/answer",
                              json=answer, headers={"authorization": f"Bearer {token}"})
        if r.status_code in (200, 201, 409):
            break
        await asyncio.sleep(0.5)
    while loop.time() < deadline:  # audit learns of the answer from intake's event
        case = await ana.case(sid)
        if any((c.get("decision") or {}).get("changed_since_decided") for c in case["criteria"]):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{sid}: the city's answer did not reach audit")


# --- debriefs ---------------------------------------------------------------------------------

# Of the two cities whose review was approved, the first books a call in one of Ana's slots
# (its workflow waits for the call), the second declines the debrief (its workflow completes).
DEBRIEFS = {8: "book", 9: "decline"}


async def play_debriefs(client: httpx.AsyncClient, urls: dict[str, str], submissions: dict[str, str],
                        tokens: dict[str, str]) -> None:
    """Ana publishes slots a week ahead; the approved cities book or decline once their
    report is out and the debrief is offered. What an earlier run did is left as it is."""
    notify = f"{urls['notify']}/api/v1"
    ana = {"authorization": f"Bearer {await sign_in(client, urls['intake'], STAFF[1][0])}"}
    day = (datetime.now(UTC) + timedelta(days=7)).date()
    for hour in (10, 11, 14):
        r = await client.post(f"{notify}/slots", headers=ana, json={
            "starts_at": f"{day.isoformat()}T{hour:02d}:00:00", "timezone": "America/New_York",
            "duration_minutes": 45, "call_url": f"https://meet.example.org/wwc-debrief-{hour}"})
        if r.status_code not in (201, 409):  # 409: overlaps a slot of an earlier run
            log(f"could not publish a debrief slot: {r.status_code} {r.text[:200]}")
    for i, action in DEBRIEFS.items():
        name = DEMO_CITIES[i][0]
        if name not in submissions:
            continue
        sid, city = submissions[name], {"authorization": f"Bearer {tokens[name]}"}
        deadline = asyncio.get_running_loop().time() + 180  # scoring and the report come first
        while asyncio.get_running_loop().time() < deadline:
            r = await client.get(f"{notify}/debriefs/{sid}", headers=city)
            if r.status_code == 200:
                break
            await asyncio.sleep(1)
        else:
            log(f"{name}: no debrief offered yet; left for later")
            continue
        if r.json()["state"] != "open":
            continue  # booked or closed in an earlier run
        if action == "book":
            slots = (await client.get(f"{notify}/slots", headers=city)).json()
            if slots:
                r = await client.post(f"{notify}/debriefs/{sid}/booking", headers=city, json={"slot_id": slots[0]["id"]})
                log(f"{name}: debrief call booked ({r.status_code})")
        else:
            r = await client.post(f"{notify}/debriefs/{sid}/decline", headers=city)
            log(f"{name}: debrief declined ({r.status_code})")


# --- an appeal ---------------------------------------------------------------------------------

# The city that declined its debrief appeals Ana's first change ("documents not submitted")
# with the council's minutes; Dev overturns it, Eva signs off, and the report is reissued as
# version 2 (its verification says version 1 is superseded).
APPEALING = 9
APPEAL_STATEMENT = ("The policy was adopted by the council in March; the minutes of that meeting, attached, "
                    "record the vote.")
APPEAL_DECISION = ("additional_evidence_provided",
                   "The council minutes filed with the appeal show the policy adopted before the deadline.")
# The smallest file the evidence checks accept as a PDF (its signature and end marker).
MINUTES_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%" + b"x" * 1900 + b"\n%%EOF\n"


async def play_appeal(client: httpx.AsyncClient, urls: dict[str, str], submissions: dict[str, str],
                      tokens: dict[str, str]) -> None:
    """Once the appealing city's certification has completed: its appeal, decided by Dev and
    signed off by Eva through audit's API. An appeal filed by an earlier run is left as it is."""
    name = DEMO_CITIES[APPEALING][0]
    if name not in submissions or name not in tokens:
        return
    sid, city = submissions[name], {"authorization": f"Bearer {tokens[name]}"}
    intake = f"{urls['intake']}/api/v1/submissions/{sid}"

    async def completed() -> dict | None:
        body = (await client.get(intake, headers=city)).json()
        return body if body.get("status") == "completed" else None

    try:
        await actors.eventually(completed, timeout=240, interval=1, what=f"{name} completed")
    except TimeoutError:
        log(f"{name}: not completed yet; no appeal")
        return
    if (await client.get(f"{intake}/appeal", headers=city)).status_code == 200:
        return  # filed by an earlier run
    served = actors.Served(urls)
    ana = actors.Auditor(served, await sign_in(client, urls["intake"], STAFF[1][0]), name=STAFF[1][1])
    case = await ana.case(sid)
    changed = [c["criterion_id"] for c in case["criteria"]
               if (c.get("decision") or {}).get("reason_code") == CHANGES[0][1]]
    if not changed:
        log(f"{name}: no audited change to appeal")
        return
    criterion = changed[0]
    r = await client.post(f"{intake}/appeal/criteria/{criterion}/files", content=MINUTES_PDF, headers={
        **city, "content-type": "application/pdf", "x-filename": "council-minutes-march.pdf"})
    r.raise_for_status()
    r = await client.post(f"{intake}/appeal", headers=city,
                          json={"criteria": [{"criterion_id": criterion, "statement": APPEAL_STATEMENT}]})
    r.raise_for_status()
    appeal_id = r.json()["id"]
    dev, eva = [{"authorization": f"Bearer {await sign_in(client, urls['intake'], STAFF[i][0])}"} for i in (4, 5)]
    appeals = f"{urls['audit']}/api/v1/appeals/{appeal_id}"

    async def as_soon_as_possible(method: str, url: str, headers: dict, **kwargs) -> dict | None:
        # The appeal reaches audit through the workflow, and audit learns of new staff from
        # intake's events: both a moment after the request above.
        r = await client.request(method, url, headers=headers, **kwargs)
        return r.json() if r.status_code == 200 else None

    reason, explanation = APPEAL_DECISION
    await actors.eventually(lambda: as_soon_as_possible("POST", f"{appeals}/decisions", dev, json={
        "criterion_id": criterion, "outcome": "overturned", "reason_code": reason, "explanation": explanation}),
        timeout=120, interval=1, what=f"{name}'s appeal decided")
    await actors.eventually(lambda: as_soon_as_possible("POST", f"{appeals}/signoff", eva),
                            timeout=120, interval=1, what=f"{name}'s appeal signed off")
    log(f"{name}: appeal of {criterion} overturned and signed off; the report is reissued as version 2")


def print_urls() -> None:
    urls = service_urls()
    common, temporal, s3, smtp = CommonSettings(), TemporalSettings(), S3Settings(), SmtpSettings()
    lines = [f"  {name:<10} {urls[name]}  (API docs: {urls[name]}/docs)" for name in SERVICES]
    lines += [
        f"  portal     {urls['intake']}/portal",
        f"  auditors   {urls['audit']}/audit  (debrief slots: {urls['notify']}/slots)",
        f"  operators  {urls['reporting']}/operator  (and `wwc ops status`)",
        f"  reports    {urls['reporting']}/reports  (roster: {urls['reporting']}/roster, "
        f"programme: {urls['reporting']}/programme)",
        f"  temporal   {temporal.ui_url}  (gRPC {temporal.address})",
        f"  s3         http://{s3.endpoint}",
        f"  smtp sink  {smtp.host}:{smtp.port}  (mail saved under {common.var_dir / 'mail'})",
        f"  sign in    auditor@wwc.demo, auditor2@wwc.demo, auditor3@wwc.demo, auditor4@wwc.demo, "
        f"auditor5@wwc.demo (auditors), operator@wwc.demo; "
        f"password {DEMO_PASSWORD}",
        f"  calibration {urls['audit']}/audit/calibration  (the double-reviewed cases' agreement)",
    ]
    print("\nWWC Certification platform is up:\n" + "\n".join(lines) + "\n", flush=True)


async def main() -> None:
    from services.intake.config import IntakeOptions

    urls = service_urls()
    async with httpx.AsyncClient(timeout=30) as client:
        await wait_ready(client, urls)
        await ensure_staff()
        tokens: dict[str, str] = {}
        submissions = await load_cohort(client, urls["intake"], IntakeOptions().current_cycle, tokens)
        await play_auditors(client, urls, submissions, tokens)
        await play_debriefs(client, urls, submissions, tokens)
        await play_appeal(client, urls, submissions, tokens)
    print_urls()
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

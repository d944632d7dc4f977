"""Scripted people: a city's staff and the auditors, doing through the public HTTP APIs
what the real ones do in the portal and the consoles. Used by `make run`'s demo, the
benchmarks and the end-to-end tests, so that all of them walk the path users walk.

Anything that serves the APIs will do: the in-process harness (`devtools.harness.Stack`)
or services running as processes (`devtools.processes.ProcessStack`). Both give
`client(service, token)` and `registration_link(email)`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

CYCLE = "2026"
PASSWORD = "correct-horse-battery-staple"


class Endpoints(Protocol):
    def client(self, service: str, token: str | None = None) -> httpx.AsyncClient: ...

    async def registration_link(self, email: str) -> str: ...


@dataclass
class Served:
    """Endpoints of services already running at `urls` (`make run`'s processes), with the
    mail the SMTP sink saved under `var/mail`."""

    urls: dict[str, str]
    timeout: float = 30

    def client(self, service: str, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.urls[service], headers=headers, timeout=self.timeout)

    async def registration_link(self, email: str) -> str:
        from devtools.mailbox import wait_for_link
        return await wait_for_link(email)


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, response: httpx.Response) -> None:
        self.status, self.body = response.status_code, response.text[:500]
        super().__init__(f"{method} {path}: {self.status} {self.body}")


async def call(client: httpx.AsyncClient, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs) -> Any:
    """One API call; anything but 2xx (or a status in `ok`) raises ApiError."""
    r = await client.request(method, path, **kwargs)
    if r.status_code >= 300 and r.status_code not in ok:
        raise ApiError(method, path, r)
    return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else None


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float, interval: float = 0.25,
                     what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; its value. Raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        await asyncio.sleep(interval)


# --- a city ------------------------------------------------------------------------------------


@dataclass
class City:
    """A city's contact person, signed in after registering."""

    endpoints: Endpoints
    name: str
    email: str
    token: str = ""
    city_id: str = ""
    submission_id: str = ""

    @classmethod
    async def register(cls, endpoints: Endpoints, *, name: str, email: str, state: str = "US-OH", country: str = "US",
                       population: int = 120_000, language: str = "en", password: str = PASSWORD) -> City:
        """Register, follow the mailed link, and be signed in."""
        async with endpoints.client("intake") as anon:
            await call(anon, "POST", "/api/v1/cities", json={
                "name": name, "state": state, "country": country, "population": population,
                "contact_name": f"{name} Data Office", "contact_email": email, "password": password,
                "language": language})
            link = await endpoints.registration_link(email)
            body = await call(anon, "POST", "/api/v1/cities/confirm", json={"token": link.split("token=", 1)[1]})
        return cls(endpoints, name, email, token=body["token"]["access_token"], city_id=body["city"]["id"])

    def intake(self) -> httpx.AsyncClient:
        return self.endpoints.client("intake", self.token)

    async def prepare(self, answers: dict[str, str], *, snapshot: dict[str, bool], files: dict[str, bytes] | None = None,
                      cycle: str = CYCLE) -> None:
        """Data Snapshot, every answer with a narrative, a link for each YES, and files."""
        async with self.intake() as intake:
            await call(intake, "POST", f"/api/v1/snapshots/{cycle}", json={"answers": snapshot})
            responses = {cid: {"response": a, "narrative": f"{self.name} on {cid}: {a.lower()}.",
                               "links": [f"https://data.example.gov/{cid.lower()}"] if a == "YES" else []}
                         for cid, a in answers.items()}
            await call(intake, "PUT", f"/api/v1/assessments/{cycle}/responses", json={"responses": responses})
            for cid, data in (files or {}).items():
                await call(intake, "POST", f"/api/v1/assessments/{cycle}/criteria/{cid}/files", content=data,
                           headers={"content-type": "application/pdf", "x-filename": f"{cid.lower()}-evidence.pdf"})

    async def submit(self, cycle: str = CYCLE) -> str:
        async with self.intake() as intake:
            self.submission_id = (await call(intake, "POST", f"/api/v1/assessments/{cycle}/submit"))["id"]
        return self.submission_id

    async def stage(self) -> str | None:
        async with self.intake() as intake:
            body = await call(intake, "GET", f"/api/v1/submissions/{self.submission_id}")
        return body.get("status")

    async def answer_clarifications(self) -> int:
        """Answer every open clarification request with a new narrative; how many."""
        async with self.intake() as intake:
            open_requests = [r for r in await call(intake, "GET", f"/api/v1/submissions/{self.submission_id}/clarifications")
                             if r.get("state") == "open"]
            for req in open_requests:
                await call(intake, "POST",
                           f"/api/v1/submissions/{self.submission_id}/clarifications/{req['request_id']}/answer",
                           json={"answers": {cid: {"narrative": f"{self.name}: the adopted document is linked.",
                                                   "links": [f"https://data.example.gov/{cid.lower()}/adopted"]}
                                             for cid in req["criteria"]}})
        return len(open_requests)

    def notify(self) -> httpx.AsyncClient:
        return self.endpoints.client("notify", self.token)

    async def debrief_offered(self) -> bool:
        async with self.notify() as notify:
            r = await notify.get(f"/api/v1/debriefs/{self.submission_id}")
        return r.status_code == 200 and r.json().get("state") == "open"

    async def decline_debrief(self) -> None:
        async with self.notify() as notify:
            await call(notify, "POST", f"/api/v1/debriefs/{self.submission_id}/decline")

    async def book_debrief(self, slot_id: str | None = None) -> dict:
        """Book `slot_id`, or the first open slot (another city taking one first, 409,
        moves on to the next)."""
        async with self.notify() as notify:
            slots = [{"id": slot_id}] if slot_id else await call(notify, "GET", "/api/v1/slots")
            for slot in slots:
                r = await notify.post(f"/api/v1/debriefs/{self.submission_id}/booking", json={"slot_id": slot["id"]})
                if r.status_code == 201:
                    return r.json()
                if r.status_code != 409:
                    raise ApiError("POST", "booking", r)
        raise RuntimeError(f"{self.name}: no open debrief slot left")


# --- an auditor ---------------------------------------------------------------------------------


@dataclass
class Change:
    criterion: str
    response: str
    reason_code: str
    explanation: str
    what_would_satisfy: str = ""


@dataclass
class Auditor:
    endpoints: Endpoints
    token: str
    name: str = ""
    decided: dict[str, int] = field(default_factory=dict)

    def audit(self) -> httpx.AsyncClient:
        return self.endpoints.client("audit", self.token)

    async def case_ready(self, submission_id: str) -> bool:
        """The case is open and holds the city's submission (both arrive asynchronously)."""
        async with self.audit() as audit:
            r = await audit.get(f"/api/v1/cases/by-submission/{submission_id}")
        return r.status_code == 200 and bool(r.json().get("received"))

    async def wait_for_case(self, submission_id: str, timeout: float = 120) -> None:
        await eventually(lambda: self.case_ready(submission_id), timeout=timeout, interval=0.3,
                         what=f"the case of {submission_id}")

    async def case_status(self, submission_id: str) -> str | None:
        """The case's state once it is open and holds the submission, else None."""
        async with self.audit() as audit:
            r = await audit.get(f"/api/v1/cases/by-submission/{submission_id}")
        return r.json()["status"] if r.status_code == 200 and r.json().get("received") else None

    async def claim(self, submission_id: str) -> None:
        async with self.audit() as audit:
            await call(audit, "POST", f"/api/v1/cases/{submission_id}/claim")

    async def case(self, submission_id: str) -> dict:
        async with self.audit() as audit:
            return await call(audit, "GET", f"/api/v1/cases/{submission_id}")

    async def decide(self, submission_id: str, change: Change) -> None:
        async with self.audit() as audit:
            version = self.decided.get(f"{submission_id}/{change.criterion}", 0)
            body = await call(audit, "PUT", f"/api/v1/cases/{submission_id}/decisions/{change.criterion}", json={
                "response": change.response, "reason_code": change.reason_code, "explanation": change.explanation,
                "what_would_satisfy": change.what_would_satisfy, "version": version})
            self.decided[f"{submission_id}/{change.criterion}"] = body.get("version", version + 1)

    async def confirm(self, submission_id: str, criterion: str) -> None:
        """Confirm one criterion as submitted, having looked at it (what "confirm the remaining"
        never does for a criterion the city answered in a round)."""
        case = await self.case(submission_id)
        crit = next(c for c in case["criteria"] if c["criterion_id"] == criterion)
        version = (crit.get("decision") or {}).get("version", 0)
        async with self.audit() as audit:
            await call(audit, "PUT", f"/api/v1/cases/{submission_id}/decisions/{criterion}",
                       json={"response": crit["submitted"], "version": version})

    async def ask_city(self, submission_id: str, criteria: list[str], message: str) -> dict:
        async with self.audit() as audit:
            return await call(audit, "POST", f"/api/v1/cases/{submission_id}/clarifications",
                              json={"criteria": criteria, "message": message})

    async def round_closed(self, submission_id: str) -> bool:
        async with self.audit() as audit:
            rounds = await call(audit, "GET", f"/api/v1/cases/{submission_id}/clarifications")
        return bool(rounds) and all(r["status"] != "open" for r in rounds)

    async def confirm_remaining(self, submission_id: str) -> None:
        async with self.audit() as audit:
            await call(audit, "POST", f"/api/v1/cases/{submission_id}/decisions/confirm-remaining")

    async def request_signoff(self, submission_id: str) -> str:
        async with self.audit() as audit:
            return (await call(audit, "POST", f"/api/v1/cases/{submission_id}/signoff/request"))["decisions_hash"]

    async def return_signoff(self, submission_id: str, comments: str) -> None:
        async with self.audit() as audit:
            await call(audit, "POST", f"/api/v1/cases/{submission_id}/signoff/return", json={"comments": comments})

    async def approve(self, submission_id: str, decisions_hash: str) -> None:
        async with self.audit() as audit:
            await call(audit, "POST", f"/api/v1/cases/{submission_id}/signoff/approve",
                       json={"decisions_hash": decisions_hash})

    async def signoff_hash(self, submission_id: str) -> str:
        """The decisions' hash as the sign-off page shows it now (what an approval names)."""
        async with self.audit() as audit:
            return (await call(audit, "GET", f"/api/v1/cases/{submission_id}/signoff"))["decisions_hash"]

    # The blind second review of a double-reviewed case (calibration).

    async def auditor_id(self, email: str) -> str | None:
        """The id audit knows a colleague by (once intake's event has told it), else None."""
        async with self.audit() as audit:
            found = [a for a in await call(audit, "GET", "/api/v1/auditors") if a["email"] == email]
        return found[0]["user_id"] if found else None

    async def second_review(self, submission_id: str) -> dict:
        async with self.audit() as audit:
            return await call(audit, "GET", f"/api/v1/cases/{submission_id}/second-review")

    async def choose_second_reviewer(self, submission_id: str, auditor_id: str) -> None:
        async with self.audit() as audit:
            await call(audit, "POST", f"/api/v1/cases/{submission_id}/second-review/assign",
                       json={"auditor_id": auditor_id})

    async def decide_blind(self, submission_id: str, criterion: str, response: str, change: Change | None = None) -> None:
        """As the case's second reviewer: a response (a change with its reason and note)."""
        async with self.audit() as audit:
            await call(audit, "PUT", f"/api/v1/cases/{submission_id}/second-review/{criterion}", json={
                "response": response, "reason_code": change.reason_code if change else "",
                "note": change.explanation if change else "",
                "what_would_satisfy": change.what_would_satisfy if change else ""})

    async def resolve(self, submission_id: str, criterion: str, outcome: str, note: str) -> None:
        """At sign-off: `keep_first` or `take_second` on a difference between the two reviews."""
        async with self.audit() as audit:
            await call(audit, "POST", f"/api/v1/cases/{submission_id}/second-review/{criterion}/resolve",
                       json={"outcome": outcome, "note": note})

    async def review(self, submission_id: str, changes: list[Change], approver: Auditor) -> None:
        """Claim, make the changes, confirm the rest as submitted, ask for sign-off; the
        second auditor approves."""
        await self.wait_for_case(submission_id)
        await self.claim(submission_id)
        for change in changes:
            await self.decide(submission_id, change)
        await self.confirm_remaining(submission_id)
        await approver.approve(submission_id, await self.request_signoff(submission_id))

    async def publish_slots(self, starts: list[str], *, timezone: str = "America/New_York",
                            minutes: int = 45) -> list[str]:
        """Debrief slots in the auditor's calendar (naive local times in `timezone`); the
        ids of those published (one overlapping a slot published earlier is skipped)."""
        published = []
        async with self.endpoints.client("notify", self.token) as notify:
            for i, at in enumerate(starts):
                r = await notify.post("/api/v1/slots", json={
                    "starts_at": at, "timezone": timezone, "duration_minutes": minutes,
                    "call_url": f"https://meet.example.org/wwc-debrief-{i}"})
                if r.status_code == 201:
                    published.append(r.json()["id"])
                elif r.status_code != 409:
                    raise ApiError("POST", "/api/v1/slots", r)
        return published


async def staff_token(endpoints: Endpoints, email: str, password: str) -> str:
    async with endpoints.client("intake") as anon:
        return (await call(anon, "POST", "/api/v1/auth/token", json={"email": email, "password": password}))[
            "access_token"]

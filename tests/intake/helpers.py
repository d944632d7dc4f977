"""Helpers for the intake API tests: cities, drafts, files of every type, the bucket and
the evidence table, and signalling a submission's workflow."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import httpx
from sqlalchemy import select

from services.intake.activities import EVIDENCE_BUCKET
from services.intake.models import Evidence
from shared.catalog.loader import load_catalog
from certification.contract import CertificationStatus, Query
from services.intake.models import ClarificationRequest as ClarificationRequestRow
from tests import standins
from devtools.harness import Stack
from tests.infra.test_consumer import eventually

CYCLE = "2026"
CATALOG = load_catalog("wwc-2019")
YES_ALL = {q.id: True for q in CATALOG.snapshot}


def city_data(name: str = "Springfield", **overrides) -> dict:
    slug = name.lower().replace(" ", "")
    return {"name": name, "state": "US-IL", "country": "US", "population": 116_250,
            "contact_name": f"{name} Data Office", "contact_email": f"data@{slug}.gov",
            "password": "correct-horse-battery", **overrides}


async def register(stack: Stack, name: str = "Springfield", **overrides) -> tuple[httpx.AsyncClient, dict]:
    """Register a city; a client signed in as its first staff member, and the city."""
    body = await stack.register_city(city_data(name, **overrides))
    return stack.client("intake", body["token"]["access_token"]), body["city"]


async def draft(stack: Stack, name: str = "Springfield", cycle: str = CYCLE, **overrides):
    """A registered, eligible city with its Data Snapshot taken and its draft started."""
    client, city = await register(stack, name, **overrides)
    r = await client.post(f"/api/v1/snapshots/{cycle}", json={"answers": YES_ALL})
    assert r.status_code == 201 and r.json()["eligibility"]["eligible"], r.text
    r = await client.post(f"/api/v1/assessments/{cycle}")
    assert r.status_code == 201, r.text
    return client, city


async def save(client: httpx.AsyncClient, criterion_id: str, response: str = "YES", narrative: str = "",
               cycle: str = CYCLE, version: int | None = None) -> httpx.Response:
    if version is None:
        r = await client.get(f"/api/v1/assessments/{cycle}/responses/{criterion_id}")
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    return await client.put(f"/api/v1/assessments/{cycle}/responses/{criterion_id}",
                            json={"response": response, "narrative": narrative or f"about {criterion_id}",
                                  "version": version})


async def fill_all(client: httpx.AsyncClient, cycle: str = CYCLE, *, link_for_yes: bool = True,
                   yes_every: int = 2) -> dict[str, str]:
    """Answer every criterion (YES on every `yes_every`-th, with a link); returns the answers."""
    answers = {}
    for i, crit in enumerate(CATALOG.criteria):
        answer = "YES" if i % yes_every == 0 else ("IN_PROGRESS" if i % 3 else "NO")
        r = await save(client, crit.id, answer, cycle=cycle)
        assert r.status_code == 200, r.text
        if answer == "YES" and link_for_yes:
            r = await client.post(f"/api/v1/assessments/{cycle}/criteria/{crit.id}/links",
                                  json={"url": f"https://data.example.gov/{crit.id.lower()}", "title": crit.id})
            assert r.status_code == 201, r.text
        answers[crit.id] = answer
    return answers


async def fill_bulk(client: httpx.AsyncClient, cycle: str = CYCLE, *, yes_every: int = 2) -> dict[str, str]:
    """Answer every criterion in one import (YES with a link on every `yes_every`-th)."""
    answers = {c.id: "YES" if i % yes_every == 0 else ("IN_PROGRESS" if i % 3 else "NO")
               for i, c in enumerate(CATALOG.criteria)}
    body = {cid: {"response": a, "narrative": f"about {cid}",
                  "links": [f"https://data.example.gov/{cid.lower()}"] if a == "YES" else []}
            for cid, a in answers.items()}
    r = await client.put(f"/api/v1/assessments/{cycle}/responses", json={"responses": body})
    assert r.status_code == 200, r.text
    return answers


async def upload(client: httpx.AsyncClient, criterion_id: str, filename: str, content: bytes, *,
                 cycle: str = CYCLE, raw: bool = False, content_type: str = "application/octet-stream",
                 path: str | None = None) -> httpx.Response:
    url = path or f"/api/v1/assessments/{cycle}/criteria/{criterion_id}/files"
    if raw:
        return await client.post(url, content=content,
                                  headers={"content-type": content_type, "x-filename": filename})
    return await client.post(url, files={"file": (filename, content, content_type)}, data={"title": filename})


# --- files ---------------------------------------------------------------------------------------


def pdf(size: int = 2000) -> bytes:
    head = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
    return head + b"%" + b"x" * max(size - len(head) - 8, 0) + b"\n%%EOF\n"


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200)) + b"\xff\xd9"


def _zip(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for name, text in entries.items():
            z.writestr(name, text)
    return buf.getvalue()


def docx() -> bytes:
    return _zip({"word/document.xml": "<w:document/>"})


def xlsx() -> bytes:
    return _zip({"xl/workbook.xml": "<workbook/>"})


def plain_zip() -> bytes:
    return _zip({"data/readme.txt": "hello"})


def csv() -> bytes:
    return b"indicator,value\nsafe streets,42\nparques,7\n"


def txt() -> bytes:
    return "Notes from the data governance meeting — São Paulo delegation.\n".encode()


# --- state ---------------------------------------------------------------------------------------


async def bucket_keys(stack: Stack) -> list[str]:
    rt = stack.runtimes["intake"]
    return await rt.storage.list_keys(rt.storage.bucket(EVIDENCE_BUCKET))


async def evidence_rows(stack: Stack) -> list[Evidence]:
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        return list((await session.scalars(select(Evidence))).all())


async def workflow_status(stack: Stack, workflow_id: str) -> CertificationStatus:
    client = stack.runtimes["intake"].temporal_client
    return await client.get_workflow_handle(workflow_id).query(Query.STATUS, result_type=CertificationStatus)


async def wait_stage(stack: Stack, workflow_id: str, *stages: str, timeout: float = 30) -> CertificationStatus:
    async def reached():
        try:
            status = await workflow_status(stack, workflow_id)
        except Exception:
            return None
        return status if status.stage in stages else None

    return await eventually(reached, timeout=timeout, interval=0.1)


async def request_clarification(stack: Stack, submission_id: str, criteria: list[str], *,
                                due_in: timedelta = timedelta(days=7), message: str = "Please send the documents.") -> str:
    """An auditor asks the city (audit's stand-in: its event and its signal); returns once
    intake has the request (the city sees it)."""
    request_id = await standins.request_clarification(stack.runtimes["intake"], submission_id, criteria,
                                                      due_in=due_in, message=message)

    async def known() -> bool:
        async with stack.runtimes["intake"].db.sessionmaker() as session:
            return await session.get(ClarificationRequestRow, request_id) is not None

    await eventually(known, timeout=30, interval=0.1)
    return request_id


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    return r.json()


async def portal_page(stack: Stack, client: httpx.AsyncClient, path: str) -> str:
    """A portal page as the city's signed-in browser gets it (the API token as its session)."""
    from shared.web.pages import TOKEN_COOKIE

    token = client.headers["authorization"].split()[1]
    r = await client.get(path, headers={"cookie": f"{TOKEN_COOKIE}={token}"})
    assert r.status_code == 200, r.text[:500]
    return r.text

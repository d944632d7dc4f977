"""The AsyncAPI document covers every subject and the committed copy is current."""

from __future__ import annotations

import json

import httpx

from shared.contracts import asyncapi
from shared.contracts.events import PAYLOADS
from shared.infra.runtime import ServiceRuntime, Settings
from shared.web.app import create_app
from shared.infra.settings import ServiceSettings


def test_every_subject_is_a_channel_with_its_payload_schema():
    doc = asyncapi.document()
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == set(PAYLOADS)
    schemas = doc["components"]["schemas"]
    for payload in PAYLOADS.values():
        assert payload.__name__ in schemas, payload.__name__
        assert f"{payload.__name__}Event" in schemas


def test_committed_document_is_up_to_date():
    assert json.loads(asyncapi.DOC.read_text()) == asyncapi.document(), "run `wwc asyncapi`"


async def test_services_serve_it(tmp_path):
    rt = ServiceRuntime(Settings(service=ServiceSettings(name="audit", db_url=f"sqlite+aiosqlite:///{tmp_path}/a.db")))
    app = create_app(rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        assert (await c.get("/asyncapi.json")).json()["asyncapi"] == "3.0.0"

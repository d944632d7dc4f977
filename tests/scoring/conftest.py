from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.catalog import Catalog, load_catalog, load_catalog_file
from shared.catalog.loader import CATALOG_DIR

DATA = Path(__file__).parent / "data"
MINI_PATH = DATA / "mini-catalog.yaml"


@pytest.fixture(scope="session")
def wwc() -> Catalog:
    return load_catalog("wwc-2019")


@pytest.fixture(scope="session")
def mini() -> Catalog:
    return load_catalog_file(MINI_PATH)


@pytest.fixture(scope="session")
def wwc_data() -> dict[str, Any]:
    """The raw wwc-2019 data, to derive variants from (copy before changing)."""
    return yaml.safe_load((CATALOG_DIR / "wwc-2019.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def mini_data() -> dict[str, Any]:
    return yaml.safe_load(MINI_PATH.read_text(encoding="utf-8"))

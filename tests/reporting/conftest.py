from __future__ import annotations

import pytest

from shared.catalog import Catalog, load_catalog
from services.reporting.report import ReportDocument
from services.reporting.report.preview import PreviewFile, read_preview_file
from tests.reporting.helpers import EXAMPLE, RENDERED_AT, benchmarks, report

VERIFY_CODE = "WWC-2026-7K3Q-9MXD"
VERIFY_URL = "https://certification.example.org/verify"
DEBRIEF_URL = "https://certification.example.org/debrief/abc123"


@pytest.fixture(scope="session")
def wwc() -> Catalog:
    return load_catalog("wwc-2019")


@pytest.fixture(scope="session")
def example() -> PreviewFile:
    return read_preview_file(EXAMPLE)


@pytest.fixture(scope="session")
def example_benchmarks(wwc, example):
    city = example.city
    return benchmarks(wwc, [(m.population, m.state, m.country, m.responses)
                            for m in example.cohort]
                      + [(city["population"], city["state"], city["country"], example.responses)])


@pytest.fixture(scope="session")
def example_doc(wwc, example, example_benchmarks) -> ReportDocument:
    """The shipped example as an issued report: certified, with codes and a booking link."""
    return report(
        wwc, cycle=example.cycle, city=example.city, responses=example.responses,
        changes=example.changes, benchmarks=example_benchmarks, language="en",
        rendered_at=RENDERED_AT, verification_code=VERIFY_CODE, verification_url=VERIFY_URL,
        debrief_url=DEBRIEF_URL)

"""An offline preview: a report built from one JSON file, with benchmarks computed over
the file's cohort plus the city itself by the same code the scoring service uses.

File format::

    {"catalog": "wwc-2019", "cycle": "2026",
     "city": {"name": ..., "population": ..., "state": ..., "country": ...},
     "responses": {"DG1": "YES", ...},          # final, audited; left out = NO
     "changes": [{"criterion", "from", "to", "reason_code", "reason",
                  "what_would_satisfy" (optional)}, ...],          # optional
     "cohort": [{"population", "state", "country", "responses"}, ...]}  # optional
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.catalog import CatalogError, load_catalog
from shared.scoring.benchmarks import BenchmarkBook, CityScore, publish
from shared.scoring.engine import ScoringInputError, score
from shared.scoring.simulator import path_for

from services.reporting.report.build import (
    CityInput,
    ReportInputError,
    input_error,
    build_document,
    city_facts,
)
from services.reporting.report.document import ReportDocument


class _CohortMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    population: int = Field(strict=True)
    state: str | None = None
    country: str
    responses: dict[str, str]


class PreviewFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    catalog: str = Field(min_length=1)
    cycle: str = Field(min_length=1)
    city: dict[str, Any]
    responses: dict[str, str]
    changes: list[dict[str, Any]] = []
    cohort: list[_CohortMember] = []


def read_preview_file(path: str | Path) -> PreviewFile:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportInputError("file", f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportInputError("file", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ReportInputError("file", "expected a JSON object with catalog, cycle, city "
                                       "and responses")
    try:
        return PreviewFile.model_validate(data)
    except ValidationError as exc:
        error = input_error("file", exc)
        raise ReportInputError(error.field.removeprefix("file."), error.reason) from None


def preview_document(preview: PreviewFile, *, language: str, rendered_at: datetime
                     ) -> ReportDocument:
    try:
        catalog = load_catalog(preview.catalog)
    except CatalogError as exc:
        raise ReportInputError("catalog", exc.reason) from None

    scores = []
    for i, member in enumerate(preview.cohort):
        field = f"cohort[{i}]"
        facts = city_facts(CityInput(name=field, population=member.population,
                                     state=member.state, country=member.country),
                           catalog, field)
        scores.append(_city_score(catalog, preview.cycle, f"cohort-{i}", facts,
                                  member.responses, field))
    city = city_facts(preview.city, catalog)
    scores.append(_city_score(catalog, preview.cycle, "preview-city", city,
                              preview.responses, ""))
    benchmarks = publish(BenchmarkBook.rebuild(scores), preview.cycle)
    result, path = scored(catalog, preview.responses, benchmarks, city.population_band)
    return build_document(
        catalog=catalog, cycle=preview.cycle, city=preview.city, result=result, path=path,
        changes=preview.changes, benchmarks=benchmarks, language=language,
        rendered_at=rendered_at, preview=True)


def scored(catalog, responses, benchmarks, population_band: str | None, field: str = ""):
    """What the scoring service would send with a score (the preview has no service):
    the explainable score and the way to the next tier, by the same shared code."""
    try:
        result = score(catalog, responses)
    except ScoringInputError as exc:
        prefix = f"{field}." if field else ""
        raise ReportInputError(f"{prefix}responses.{exc.criterion_id}", str(exc)) from None
    return result, path_for(catalog, result, benchmarks, population_band)


def _city_score(catalog, cycle: str, city_id: str, facts, responses, field: str) -> CityScore:
    try:
        result = score(catalog, responses)
    except ScoringInputError as exc:
        prefix = f"{field}." if field else ""
        raise ReportInputError(f"{prefix}responses.{exc.criterion_id}", str(exc)) from None
    return CityScore.from_result(city_id=city_id, cycle=cycle, region=facts.region,
                                 population_band=facts.population_band, result=result)

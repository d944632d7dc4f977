"""Reports to test with: cohorts scored by the engine, benchmarks published by the same
code the scoring service uses, and the text a reader gets out of a PDF."""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from shared.catalog import Catalog
from shared.catalog.geography import population_band, region_for
from shared.scoring.benchmarks import BenchmarkBook, CityScore, PublishedBenchmarks, publish
from shared.scoring.engine import score
from services.reporting.report import build_document
from services.reporting.report.preview import scored

EXAMPLE = Path(__file__).parents[2] / "examples" / "report-preview.json"
RENDERED_AT = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
CYCLE = "2026"


def responses(catalog: Catalog, rng: random.Random, maturity: float) -> dict[str, str]:
    out = {}
    for cid in catalog.criterion_ids:
        r = rng.random()
        out[cid] = "YES" if r < maturity else ("IN_PROGRESS" if r < (1 + maturity) / 2 else "NO")
    return out


def benchmarks(catalog: Catalog, cities: Iterable[tuple[int, str | None, str, Mapping[str, str]]],
               cycle: str = CYCLE) -> PublishedBenchmarks:
    """Published benchmarks over (population, state, country, responses) cities."""
    scores = []
    for i, (population, state, country, answers) in enumerate(cities):
        region = region_for(country, state)
        scores.append(CityScore.from_result(
            city_id=f"c{i}", cycle=cycle, region=region and str(region),
            population_band=str(population_band(population)), result=score(catalog, answers)))
    return publish(BenchmarkBook.rebuild(scores), cycle)


def cohort(catalog: Catalog, places: Iterable[tuple[int, str | None, str]], seed: int = 7
           ) -> list[tuple[int, str | None, str, dict[str, str]]]:
    rng = random.Random(seed)
    return [(pop, state, country, responses(catalog, rng, rng.uniform(0.2, 0.8)))
            for pop, state, country in places]


def report(catalog: Catalog, *, responses: Mapping[str, str], benchmarks: PublishedBenchmarks,
           city: Mapping, **kw):
    """A report built as the service builds one: scored (and its path found) first by the
    shared scoring code, exactly what the scoring service sends with a score."""
    try:
        band = population_band(city.get("population"))
    except ValueError:
        band = None  # build_document names the bad field
    result, path = scored(catalog, responses, benchmarks, band and str(band))
    kw.setdefault("cycle", CYCLE)
    kw.setdefault("language", "en")
    kw.setdefault("rendered_at", RENDERED_AT)
    return build_document(catalog=catalog, city=city, result=result, path=path,
                          benchmarks=benchmarks, **kw)


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "report") -> str:
    """What pdftotext reads, whitespace collapsed (lines wrap anywhere in a PDF)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return flatten(out)


def flatten(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)  # "quasi-\nexperimental" as written

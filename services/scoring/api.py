"""Scoring's JSON API: catalogs, scores, benchmarks, the next-tier simulator and what-if."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.catalog import Catalog, CatalogError, load_catalog, list_catalogs
from shared.catalog.geography import POPULATION_BANDS, REGIONS
from shared.i18n import Lang
from shared.infra.auth import CurrentPrincipal
from services.scoring.errors import InvalidInput, NotFound, UnknownCatalog
from services.scoring import benchmark_releases
from shared.scoring.benchmarks import CohortSnapshot, PublishedBenchmarks
from shared.scoring.engine import ScoreResult, ScoringInputError, score
from services.scoring.models import Score
from shared.scoring.simulator import Simulation, next_tier

router = APIRouter(prefix="/api/v1", tags=["scoring"])


def _catalog(version: str) -> Catalog:
    try:
        return load_catalog(version)
    except (CatalogError, FileNotFoundError, KeyError) as exc:
        raise UnknownCatalog(f"no catalog {version[:40]!r}; known: {', '.join(list_catalogs())}",
                             field="version", reason="not a catalog version") from exc


def catalog_view(catalog: Catalog, lang: str) -> dict:
    """The catalog's texts in one language (falling back to the default per item)."""
    t = lambda obj: catalog.text(obj, lang)  # noqa: E731
    return {
        "version": catalog.version, "language": lang, "title": t(catalog.title),
        "eligibility": catalog.eligibility.model_dump(),
        "components": [{"id": c.id, "name": t(c.name), "description": t(c.description)} for c in catalog.components],
        "tiers": [{"id": x.id, "name": t(x.name), "description": t(x.description), "min_percent": x.min_percent,
                   "min_components": x.min_components} for x in catalog.tiers],
        "areas": [{"id": a.id, "name": t(a.name), "description": t(a.description),
                   "criteria": [c.id for c in catalog.criteria_in_area(a.id)]} for a in catalog.areas],
        "criteria": [{"id": c.id, "area": c.area, "text": t(c.text), "components": list(c.components),
                      "prerequisites": list(c.prerequisites), "evidence": t(c.evidence),
                      "evidence_required_for_yes": c.evidence_required_for_yes} for c in catalog.criteria],
        "snapshot": [{"id": q.id, "area": q.area, "text": t(q.text)} for q in catalog.snapshot],
        "resources": [{"id": r.id, "name": t(r.name), "description": t(r.description), "url": r.url,
                       "areas": list(r.areas), "criteria": list(r.criteria)} for r in catalog.resources],
    }


@router.get("/catalogs", summary="List catalog versions")
async def catalogs() -> list[dict]:
    return [{"version": v, "criteria": len(load_catalog(v).criteria), "languages": list(load_catalog(v).languages)}
            for v in list_catalogs()]


@router.get("/catalogs/{version}", summary="One catalog version, all languages or one")
async def catalog(version: str, lang: Lang | None = None) -> dict:
    cat = _catalog(version)
    return catalog_view(cat, lang) if lang else cat.model_dump(mode="json")


@router.get("/scores/{submission_id}", summary="A submission's score (a city sees its own only)")
async def get_score(submission_id: str, principal: CurrentPrincipal, request: Request) -> dict:
    async with request.app.state.runtime.db.sessionmaker() as session:
        row = await session.get(Score, submission_id)
    # Another city's score is reported as absent, not forbidden: no probing.
    if row is None or not principal.can_see_city(row.city_id):
        raise NotFound(f"no score for submission {submission_id}")
    return {"submission_id": row.submission_id, "city_id": row.city_id, "cycle": row.cycle,
            "catalog_version": row.catalog_version, "met": row.met, "total": row.total,
            "percent": row.percent, "tier": row.tier, "result": row.result,
            "computed_at": row.computed_at.isoformat()}


class Benchmarks(BaseModel):
    cycle: str
    release: int | None = Field(None, description="the release shown; none before the cycle's first")
    published_at: datetime | None = None
    all: CohortSnapshot
    band: CohortSnapshot | None = None
    region: CohortSnapshot | None = None


async def _published(request: Request, cycle: str) -> tuple[PublishedBenchmarks, dict]:
    """The cycle's latest release (never the live sums) and which release it is."""
    async with request.app.state.runtime.db.sessionmaker() as session:
        figures, release = await benchmark_releases.published(session, cycle)
    return figures, {"release": release.release if release else None,
                     "published_at": release.published_at if release else None}


def _check(value: str | None, allowed, field: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidInput(f"{field}: must be one of {', '.join(allowed)}", field=field,
                           reason=f"must be one of {', '.join(allowed)}")


@router.get("/benchmarks/{cycle}", response_model=Benchmarks,
            summary="Aggregates for all applicants, a population band and a region",
            description="From the cycle's latest release. Cohorts under 5 cities, and cohorts that "
                        "subtraction would reveal, are withheld; no city is ever named.")
async def benchmarks(cycle: str, request: Request, _: CurrentPrincipal,
                     band: str | None = Query(None, examples=["100K-250K"]),
                     region: str | None = Query(None, examples=["Midwest"])) -> Benchmarks:
    _check(band, POPULATION_BANDS, "band")
    _check(region, REGIONS, "region")
    figures, release = await _published(request, cycle)
    return Benchmarks(cycle=cycle, **release, all=figures.all,
                      band=figures.bands[band] if band else None,
                      region=figures.regions[region] if region else None)


@router.get("/benchmarks/{cycle}/playing-field", summary="Applicants and average score per region",
            description="From the cycle's latest release, as /benchmarks/{cycle}.")
async def playing_field(cycle: str, request: Request, _: CurrentPrincipal) -> dict:
    figures, release = await _published(request, cycle)

    def view(snap: CohortSnapshot) -> dict:
        return {"withheld": snap.withheld, "applicants": snap.applicants, "average_percent": snap.average_percent}

    return {"cycle": cycle, **release, "regions": {r: view(s) for r, s in figures.regions.items()},
            "population_bands": {b: view(s) for b, s in figures.bands.items()}}


class Hypothetical(BaseModel):
    catalog: str = Field(default="wwc-2019", examples=["wwc-2019"])
    responses: dict[str, Literal["YES", "IN_PROGRESS", "NO"]] = Field(
        examples=[{"DG1": "YES", "GM1": "IN_PROGRESS"}], description="left-out criteria count as NO")


class SimulationRequest(Hypothetical):
    cycle: str | None = Field(default=None, examples=["2026"], description="benchmarks used to rank the set")
    population_band: str | None = Field(default=None, examples=["100K-250K"])


def _score_or_422(catalog: Catalog, responses: dict) -> ScoreResult:
    try:
        return score(catalog, responses)
    except ScoringInputError as exc:
        raise InvalidInput(f"responses.{exc.criterion_id}: {exc}", field=f"responses.{exc.criterion_id}",
                           reason=str(exc)) from exc


@router.post("/what-if", response_model=ScoreResult, summary="Score hypothetical responses (nothing stored)")
async def what_if(body: Hypothetical, _: CurrentPrincipal) -> ScoreResult:
    return _score_or_422(_catalog(body.catalog), body.responses)


@router.post("/simulate", response_model=Simulation,
             summary="The smallest set of criteria that reaches the next tier",
             description="Ranked so the practices most often achieved by cities of the same size come first.")
async def simulate(body: SimulationRequest, request: Request, _: CurrentPrincipal) -> Simulation:
    catalog = _catalog(body.catalog)
    _check(body.population_band, POPULATION_BANDS, "population_band")
    _score_or_422(catalog, body.responses)  # validates ids and values with a field-level error
    adoption: dict[str, float] = {}
    if body.cycle:
        figures, _release = await _published(request, body.cycle)
        for snap in ([figures.bands[body.population_band]] if body.population_band else []) + [figures.all]:
            if not snap.withheld:
                adoption = {cid: snap.share(cid) / 100 for cid in catalog.criterion_ids}
                break
    return next_tier(catalog, body.responses, adoption)

"""Build a ReportDocument from the catalog, scoring's result (the explainable score and
the way to the next tier, as the scoring service computed them: the report never scores
again), the audited changes and the published benchmarks. Pure: nothing here reads a
clock, a file or a database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from shared.catalog import Catalog, Resource, places
from shared.catalog.geography import POPULATION_BANDS, REGIONS, population_band, region_for
from shared.i18n import languages
from shared.scoring.benchmarks import MIN_COHORT, CohortSnapshot, PublishedBenchmarks
from shared.scoring.engine import Response, ScoreResult
from shared.scoring.simulator import Path

from services.reporting.report.document import (
    AppealFinding,
    RevisionFacts,
    TrailCheckpoint,
    AreaSection,
    AuditedChange,
    CityFacts,
    CohortFacts,
    ComponentFacts,
    CriterionLine,
    FieldRow,
    NextStep,
    NextTier,
    ReportDocument,
    ResourceFacts,
    TierFacts,
)

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ReportInputError(ValueError):
    """Input a report cannot be built from; ``field`` names it (``changes[2].to``)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


class CityInput(BaseModel):
    """The city as the report names and groups it. Region and band are derived from the
    address when not given (the service passes the ones stored with the account)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: NonEmpty
    population: int = Field(ge=0, strict=True)
    state: str | None = None
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              pattern=r"^[A-Z]{2}$")]
    region: str | None = None
    population_band: str | None = None


class AppealInput(BaseModel):
    """One appealed criterion as the appeal's auditors decided it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion: NonEmpty
    outcome: Literal["upheld", "overturned"]
    before: Response
    after: Response
    reason_code: str = ""
    explanation: str = ""


class RevisionInput(BaseModel):
    """A reissue: its version, the version it replaces and when that was issued, when the
    appeal was decided, the tier and percentage before, and each appealed criterion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=2)
    replaces_version: int = Field(ge=1)
    replaces_issued_at: datetime
    decided_at: datetime
    previous_tier: str | None = None
    previous_percent: int = Field(0, ge=0, le=100)
    appeals: tuple[AppealInput, ...]


class ChangeInput(BaseModel):
    """One audited change of response, as the auditor recorded it."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    criterion: NonEmpty
    from_response: Response = Field(alias="from")
    to_response: Response = Field(alias="to")
    reason_code: NonEmpty
    reason: NonEmpty
    what_would_satisfy: NonEmpty | None = None


def build_document(
    *,
    catalog: Catalog,
    cycle: str,
    city: CityInput | Mapping[str, Any],
    result: ScoreResult,
    path: Path,
    changes: Iterable[ChangeInput | Mapping[str, Any]] = (),
    benchmarks: PublishedBenchmarks,
    language: str,
    rendered_at: datetime,
    verification_code: str | None = None,
    verification_url: str | None = None,
    trail_checkpoint: TrailCheckpoint | None = None,
    debrief_url: str | None = None,
    preview: bool = False,
    applied: int | None = None,
    revision: RevisionInput | None = None,
) -> ReportDocument:
    """Everything the report shows, frozen. Raises ReportInputError naming the field."""
    if language not in languages():
        raise ReportInputError("language", f"{language!r} is not one of {', '.join(languages())}")
    if rendered_at.tzinfo is None or rendered_at.utcoffset() is None:
        raise ReportInputError("rendered_at", "must carry a time zone")
    if applied is not None and applied < 0:
        raise ReportInputError("applied", "must be a count of cities (0 or more)")
    if benchmarks.cycle != cycle:
        raise ReportInputError("benchmarks", f"are for cycle {benchmarks.cycle!r}, "
                                             f"the report for {cycle!r}")
    if result.catalog_version != catalog.version:
        raise ReportInputError("result", f"was scored on catalog {result.catalog_version!r}, "
                                         f"the report is for {catalog.version!r}")
    if path is None or path.simulation.current_tier != result.tier:
        raise ReportInputError("path", "must be the path from the tier scoring gave "
                                       f"({result.tier or 'not certified'})")
    facts = city_facts(city, catalog)
    revised = _revision(catalog, revision, result) if revision is not None else None
    # An overturned finding: the auditors' changes end where the appeal began.
    appealed = {f.criterion: f.before for f in revised.findings if f.outcome == "overturned"} if revised else {}
    audited = _changes(catalog, changes, result, appealed)

    text = lambda obj: _text(catalog, obj)
    band = benchmarks.bands.get(facts.population_band) or CohortSnapshot(withheld=True)
    everyone = benchmarks.all

    areas = []
    for area in catalog.areas:
        area_score = result.area(area.id)
        lines = []
        for c in catalog.criteria_in_area(area.id):
            got = result.criterion(c.id)
            lines.append(CriterionLine(
                id=c.id, text=text(c), response=got.response, met=got.met,
                missing_prerequisites=tuple(got.missing_prerequisites),
                share_all=everyone.share(c.id), share_band=band.share(c.id),
                changes=tuple(audited.get(c.id, ()))))
        areas.append(AreaSection(
            id=area.id, name=text(area), description=text(area.description),
            met=area_score.met, total=area_score.total, percent=area_score.percent,
            average_all=_area_average(everyone, area.id),
            average_band=_area_average(band, area.id), criteria=tuple(lines)))

    tiers = catalog.tiers
    offered = _offered(catalog, result.tier)
    path = _next_tier(catalog, path, band, everyone, audited, offered)
    tier_resources = tuple(r.id for r in offered if r.for_tiers)
    certified = result.tier is not None
    return ReportDocument(
        catalog_version=catalog.version, cycle=cycle, languages=languages(), language=language,
        rendered_at=rendered_at, preview=preview, city=facts,
        met=result.met, total=result.total, percent=result.percent, tier=result.tier,
        tiers=tuple(TierFacts(id=t.id, name=text(t.name), description=text(t.description),
                              min_percent=t.min_percent, min_components=t.min_components,
                              max_percent=tiers[i + 1].min_percent - 1 if i + 1 < len(tiers)
                              else 100)
                    for i, t in enumerate(tiers)),
        components=tuple(ComponentFacts(id=c.id, name=text(c.name),
                                        met=c.id in result.components)
                         for c in catalog.components),
        min_cohort=MIN_COHORT, applied=applied,
        all_cities=_cohort(everyone), your_size=_cohort(band), areas=tuple(areas),
        regions=tuple(FieldRow(id=r, cohort=_cohort(benchmarks.regions.get(r)),
                               yours=r == facts.region) for r in REGIONS),
        bands=tuple(FieldRow(id=b, cohort=_cohort(benchmarks.bands.get(b)),
                             yours=b == facts.population_band) for b in POPULATION_BANDS),
        next_tier=path, resources=_resource_facts(catalog, path, tier_resources),
        tier_resources=tier_resources, debrief_url=debrief_url,
        # The public verification page knows certified cities only, so an uncertified
        # report carries no code (it would lead nowhere).
        verification_code=verification_code if certified else None,
        verification_url=verification_url if certified and verification_code else None,
        trail_checkpoint=trail_checkpoint, revision=revised,
    )


# -- pieces ----------------------------------------------------------------------------


def input_error(field: str, exc: ValidationError) -> ReportInputError:
    """The first problem pydantic found, named by its path under ``field``."""
    first = exc.errors()[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    return ReportInputError(f"{field}{path}", first["msg"])


def city_facts(city: CityInput | Mapping[str, Any], catalog: Catalog, field: str = "city"
               ) -> CityFacts:
    """The city with its benchmark region and population band, checked for eligibility."""
    if not isinstance(city, CityInput):
        try:
            city = CityInput.model_validate(city)
        except ValidationError as exc:
            raise input_error(field, exc) from None
    if city.country not in catalog.eligibility.countries:
        raise ReportInputError(f"{field}.country", f"{city.country} is not eligible for "
                                                   f"catalog {catalog.version}")
    band = city.population_band or population_band(city.population)
    if band is None or city.population < catalog.eligibility.min_population:
        raise ReportInputError(f"{field}.population", f"{city.population:,} is below the "
                               f"{catalog.eligibility.min_population:,} residents required")
    if band not in POPULATION_BANDS:
        raise ReportInputError(f"{field}.population_band", f"unknown population band {band!r}")
    # The state as its ISO 3166-2 code. What names no subdivision of the country is refused
    # when the region has to be derived from it; with the region given (the service's own
    # record) a legacy value the data migration could not place is shown as it is.
    state = places.normalise(city.country, city.state or "")
    if state is None and city.region is None:
        raise ReportInputError(f"{field}.state", f"{city.state!r} is not a state or province of {city.country} "
                                                 f"(an ISO 3166-2 code, e.g. US-IL)")
    state = (city.state if state is None else state) or None
    region = city.region
    if region is None:
        try:
            region = region_for(city.country, state)
        except ValueError as exc:
            raise ReportInputError(f"{field}.state", str(exc)) from None
    if region is not None and region not in REGIONS:
        raise ReportInputError(f"{field}.region", f"unknown region {region!r}")
    return CityFacts(name=city.name, population=city.population, state=state,
                     country=city.country, region=region, population_band=str(band))


def _revision(catalog: Catalog, revision: RevisionInput, result: ScoreResult) -> RevisionFacts:
    """The appeal's findings, checked against the score they led to."""
    if revision.version <= revision.replaces_version:
        raise ReportInputError("revision.version", "must be later than the version it replaces")
    for stamp in ("replaces_issued_at", "decided_at"):
        value = getattr(revision, stamp)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ReportInputError(f"revision.{stamp}", "must carry a time zone")
    if revision.previous_tier is not None and not any(t.id == revision.previous_tier for t in catalog.tiers):
        raise ReportInputError("revision.previous_tier", f"unknown tier {revision.previous_tier!r}")
    findings = []
    for i, a in enumerate(revision.appeals):
        field = f"revision.appeals[{i}]"
        if not catalog.has_criterion(a.criterion):
            raise ReportInputError(f"{field}.criterion", f"unknown criterion {a.criterion!r} for catalog "
                                                         f"{catalog.version}")
        if a.outcome == "upheld" and a.after is not a.before:
            raise ReportInputError(f"{field}.after", "an upheld finding keeps the audited response")
        if a.outcome == "overturned" and a.after is a.before:
            raise ReportInputError(f"{field}.after", "an overturned finding changes the response")
        final = result.criterion(a.criterion).response
        if a.after is not final:
            raise ReportInputError(f"{field}.after", f"the appeal leaves {a.criterion} at {a.after.value}, "
                                                     f"but its final response is {final.value}")
        reason = catalog.audit_reason(a.reason_code) if a.reason_code and catalog.has_audit_reason(a.reason_code) \
            else None
        findings.append(AppealFinding(
            criterion=a.criterion, text=_text(catalog, catalog.criterion(a.criterion)), outcome=a.outcome,
            before=a.before, after=a.after, reason_code=a.reason_code,
            reason_name=_text(catalog, reason.name) if reason else None, explanation=a.explanation))
    return RevisionFacts(version=revision.version, replaces_version=revision.replaces_version,
                         replaces_issued_at=revision.replaces_issued_at, decided_at=revision.decided_at,
                         previous_tier=revision.previous_tier, previous_percent=revision.previous_percent,
                         findings=tuple(findings))


def _changes(catalog: Catalog, changes: Iterable[ChangeInput | Mapping[str, Any]],
             result: ScoreResult, appealed: Mapping[str, Response] | None = None) -> dict[str, list[AuditedChange]]:
    out: dict[str, list[AuditedChange]] = {}
    for i, raw in enumerate(changes):
        field = f"changes[{i}]"
        try:
            change = raw if isinstance(raw, ChangeInput) else ChangeInput.model_validate(raw)
        except ValidationError as exc:
            raise input_error(field, exc) from None
        if not catalog.has_criterion(change.criterion):
            raise ReportInputError(f"{field}.criterion", f"unknown criterion "
                                   f"{change.criterion!r} for catalog {catalog.version}")
        if not catalog.has_audit_reason(change.reason_code):
            known = ", ".join(r.id for r in catalog.audit_reasons) or "none"
            raise ReportInputError(f"{field}.reason_code", f"unknown reason code "
                                   f"{change.reason_code!r} (known: {known})")
        if change.from_response is change.to_response:
            raise ReportInputError(f"{field}.to", "a change must change the response")
        reason = catalog.audit_reason(change.reason_code)
        out.setdefault(change.criterion, []).append(AuditedChange(
            from_response=change.from_response, to_response=change.to_response,
            reason_code=reason.id,
            reason_name=_text(catalog, reason.name),
            standard_text=_text(catalog, reason.text),
            reason=change.reason, what_would_satisfy=change.what_would_satisfy))
    # The report prints the final response next to its history: they must tell one story.
    for cid, history in out.items():
        for before, after in pairwise(history):
            if after.from_response is not before.to_response:
                raise ReportInputError(
                    "changes", f"a change to {cid} starts at {after.from_response.value}, "
                               f"but the one before it ends at {before.to_response.value}")
        final = (appealed or {}).get(cid) or result.criterion(cid).response
        if history[-1].to_response is not final:
            raise ReportInputError(
                "changes", f"the last change to {cid} ends at {history[-1].to_response.value}, "
                           f"but its final response is {final.value}")
    return out


def _text(catalog: Catalog, obj: Any) -> dict[str, str]:
    """A catalog text in every language the platform speaks (the report switches language
    without the catalog)."""
    return {lang: catalog.text(obj, lang) for lang in languages()}


def _cohort(snapshot: CohortSnapshot | None) -> CohortFacts:
    if snapshot is None or snapshot.withheld:
        return CohortFacts(withheld=True)
    return CohortFacts(withheld=False, applicants=snapshot.applicants,
                       average_percent=snapshot.average_percent)


def _area_average(snapshot: CohortSnapshot, area_id: str) -> int | None:
    if snapshot.withheld or snapshot.area_average is None:
        return None
    return snapshot.area_average.get(area_id)  # missing: not every city scored on it


def _next_tier(catalog: Catalog, path: Path, band: CohortSnapshot,
               everyone: CohortSnapshot, audited: Mapping[str, list[AuditedChange]],
               offered: list[Resource]) -> NextTier | None:
    """Scoring's way to the next tier, with each step's texts, adoption and resources."""
    if path.simulation.target_tier is None:
        return None
    sim, ranked_by = path.simulation, path.ranked_by
    steps = tuple(
        NextStep(criterion=s.id, area=s.area,
                 text=_text(catalog, catalog.criterion(s.id)),
                 response=s.response, share_band=band.share(s.id),
                 share_all=everyone.share(s.id),
                 what_would_satisfy=tuple(c.what_would_satisfy for c in audited.get(s.id, ())
                                          if c.what_would_satisfy),
                 resources=_resources_for(s.id, s.area, offered))
        for s in sim.criteria)
    return NextTier(tier=sim.target_tier, steps=steps, unlocked=tuple(sim.unlocked),
                    met_after=sim.result.met, percent_after=sim.result.percent,
                    components_after=len(sim.result.components), ranked_by=ranked_by)


def _offered(catalog: Catalog, tier: str | None) -> list[Resource]:
    return [r for r in catalog.resources if not r.for_tiers or tier in r.for_tiers]


def _resources_for(criterion: str, area: str, offered: list[Resource]) -> tuple[str, ...]:
    """Resources naming the criterion; failing that, general ones for its area."""
    return tuple(r.id for r in offered if criterion in r.criteria) or \
        tuple(r.id for r in offered if area in r.areas and not r.for_tiers)


def _resource_facts(catalog: Catalog, path: NextTier | None, tier_ids: tuple[str, ...]
                    ) -> tuple[ResourceFacts, ...]:
    """The resources the report mentions, in catalog order."""
    used = {rid for step in (path.steps if path else ()) for rid in step.resources}
    used.update(tier_ids)
    return tuple(
        ResourceFacts(id=r.id, name=_text(catalog, r.name), description=_text(catalog, r.description), url=r.url)
        for r in catalog.resources if r.id in used)

"""The frozen Certification Report: every number and catalog text the report shows.

A document is built once (``build.build_document``) and stored as JSON; rendering it
again, in any of its languages and a year later, gives the same report, because nothing
is looked up at render time except the report's own UI strings. Catalog texts are kept
in every report language (``Text``), so switching language needs no catalog.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.scoring.engine import Response

Text = dict[str, str]  # language -> text, for every language in ReportDocument.languages


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CityFacts(_Frozen):
    name: str
    population: int
    state: str | None
    country: str  # ISO 3166-1 alpha-2
    region: str | None  # shared.catalog.geography.REGIONS; None outside the eight regions
    population_band: str  # shared.catalog.geography.POPULATION_BANDS


class TierFacts(_Frozen):
    id: str
    name: Text
    description: Text
    min_percent: int
    max_percent: int  # the next tier's threshold minus one; 100 for the highest tier
    min_components: int


class ComponentFacts(_Frozen):
    """A Standard component (Commit, Measure, Take Stock, Act) and whether the city has
    at least one criterion met in it: the breadth rule of the tiers."""

    id: str
    name: Text
    met: bool


class CohortFacts(_Frozen):
    """A published cohort. When ``withheld`` the numbers are None and the report shows
    words only, never a number."""

    withheld: bool
    applicants: int | None = None
    average_percent: int | None = None


class AuditedChange(_Frozen):
    from_response: Response
    to_response: Response
    reason_code: str
    reason_name: Text  # the catalog's short label for the code
    standard_text: Text  # the catalog's standard sentence for the code
    reason: str  # the auditor's explanation, as written
    what_would_satisfy: str | None = None  # the auditor's, as written


class CriterionLine(_Frozen):
    id: str
    text: Text
    response: Response  # final, audited
    met: bool  # earned its point (YES and every prerequisite met)
    missing_prerequisites: tuple[str, ...] = ()  # why a YES earned no point
    share_all: int | None  # % of all applicant cities meeting it; None when withheld
    share_band: int | None  # % of cities of this city's population band
    changes: tuple[AuditedChange, ...] = ()


class AreaSection(_Frozen):
    id: str
    name: Text
    description: Text
    met: int
    total: int
    percent: int
    average_all: int | None  # average % of the area's criteria met, all applicants
    average_band: int | None  # the same for cities of this city's size
    criteria: tuple[CriterionLine, ...]


class FieldRow(_Frozen):
    """One line of the playing field: a region or a population band."""

    id: str
    cohort: CohortFacts
    yours: bool


class ResourceFacts(_Frozen):
    id: str
    name: Text
    description: Text
    url: str | None = None


class NextStep(_Frozen):
    criterion: str
    area: str
    text: Text
    response: Response  # current response, to be turned into a met YES
    share_band: int | None
    share_all: int | None
    what_would_satisfy: tuple[str, ...] = ()  # from the auditors' changes to this criterion
    resources: tuple[str, ...] = ()  # ids into ReportDocument.resources


class NextTier(_Frozen):
    """The simulator's smallest set of criteria that reaches the next tier."""

    tier: str
    steps: tuple[NextStep, ...]
    unlocked: tuple[str, ...] = ()  # already YES; count once a step meets their prerequisite
    met_after: int
    percent_after: int
    components_after: int
    ranked_by: Literal["band", "all", "catalog"]  # whose adoption ordered equal-sized paths


class TrailCheckpoint(_Frozen):
    seq: int
    head: str
    at: AwareDatetime


class AppealFinding(_Frozen):
    """One appealed criterion as the appeal decided it."""

    criterion: str
    text: Text
    outcome: Literal["upheld", "overturned"]
    before: Response  # the audited response the city appealed
    after: Response  # the response that stands
    reason_code: str = ""
    reason_name: Text | None = None  # the catalog's label, when the code is one of its reasons
    explanation: str = ""  # the appeal auditor's, as written


class RevisionFacts(_Frozen):
    """A report reissued after an appeal: what it replaces and what the appeal changed."""

    version: int  # 2 for the first reissue
    replaces_version: int
    replaces_issued_at: AwareDatetime
    decided_at: AwareDatetime
    previous_tier: str | None
    previous_percent: int
    findings: tuple[AppealFinding, ...]


class ReportDocument(_Frozen):
    schema_version: Literal[1] = 1
    catalog_version: str
    cycle: str
    languages: tuple[str, ...] = Field(min_length=1)  # every Text has these keys
    language: str  # the city's preferred language
    rendered_at: AwareDatetime  # the report's date, the same on every re-render
    preview: bool = False  # an offline preview, not an issued report

    city: CityFacts
    met: int
    total: int
    percent: int
    tier: str | None  # None: not certified
    tiers: tuple[TierFacts, ...]  # ascending
    components: tuple[ComponentFacts, ...]
    min_cohort: int  # cohorts smaller than this are never shown

    # Cities that applied in the cycle (submitted an application for it), counted when the
    # report was issued by the dashboard's own definition (`programme_stats.cities_applied`);
    # None: not known (a preview, or a report issued before it was recorded).
    applied: int | None = None
    all_cities: CohortFacts
    your_size: CohortFacts
    areas: tuple[AreaSection, ...]
    regions: tuple[FieldRow, ...]
    bands: tuple[FieldRow, ...]

    next_tier: NextTier | None  # None at the highest tier
    resources: tuple[ResourceFacts, ...]  # referenced by next steps, then the tier's own
    tier_resources: tuple[str, ...] = ()  # offered for the city's tier, not one criterion

    debrief_url: str | None = None
    verification_code: str | None = None  # certified cities only
    verification_url: str | None = None
    # The audit trail's last head audit published for this review (reporting's ledger):
    # printed so that a trail later rolled back no longer matches its report.
    trail_checkpoint: TrailCheckpoint | None = None
    # A reissue after an appeal (None: the first report).
    revision: RevisionFacts | None = None

    def area(self, area_id: str) -> AreaSection:
        return next(a for a in self.areas if a.id == area_id)

    def tier_facts(self, tier_id: str) -> TierFacts:
        return next(t for t in self.tiers if t.id == tier_id)

    def resource(self, resource_id: str) -> ResourceFacts:
        return next(r for r in self.resources if r.id == resource_id)

    @property
    def components_met(self) -> int:
        return sum(c.met for c in self.components)

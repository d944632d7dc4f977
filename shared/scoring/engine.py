"""Scoring: points, per-area and overall percentages, tier. Pure: no I/O, no clock.

Percentages are whole numbers rounded half up with integer arithmetic, and the tier is
decided on that shown number, so the report and the tier always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from shared.catalog import Catalog
from shared.contracts.vocabulary import Answer

Response = Answer  # the engine's name for it


class Reason(StrEnum):
    MET = "met"
    RESPONSE_NOT_YES = "response_not_yes"
    PREREQUISITE_NOT_MET = "prerequisite_not_met"


class ScoringInputError(ValueError):
    """Bad responses; ``criterion_id`` names the offending entry."""

    def __init__(self, criterion_id: str, message: str) -> None:
        self.criterion_id = criterion_id
        super().__init__(message)


class UnknownCriterionError(ScoringInputError):
    pass


class InvalidResponseError(ScoringInputError):
    pass


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class CriterionScore(_Result):
    id: str
    area: str
    components: list[str]
    response: Response
    points: int  # 0 or 1
    met: bool
    reason: Reason
    explanation: str  # English; other languages render from reason + the fields below
    missing_prerequisites: list[str] = []  # direct prerequisites that earned no point


class AreaScore(_Result):
    id: str
    met: int
    total: int
    percent: int


class ScoreResult(_Result):
    catalog_version: str
    met: int
    total: int
    percent: int
    tier: str | None
    tier_explanation: str
    components: list[str]  # Standard components with at least one criterion met
    areas: list[AreaScore]
    criteria: list[CriterionScore]

    @property
    def met_ids(self) -> list[str]:
        return [c.id for c in self.criteria if c.met]

    def criterion(self, criterion_id: str) -> CriterionScore:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def area(self, area_id: str) -> AreaScore:
        for a in self.areas:
            if a.id == area_id:
                return a
        raise KeyError(area_id)


def percent(part: int, whole: int) -> int:
    """``part/whole`` as a whole percentage, rounded half up (12.5 -> 13)."""
    if whole <= 0:
        return 0
    return (200 * part + whole) // (2 * whole)


def points_needed(total: int, min_percent: int) -> int:
    """Fewest criteria met whose shown percentage reaches ``min_percent``."""
    for met in range(total + 1):
        if percent(met, total) >= min_percent:
            return met
    return total + 1  # unreachable; the catalog check keeps thresholds <= 100


def normalize_responses(catalog: Catalog, responses: Mapping[str, str]) -> dict[str, Response]:
    """Every catalog criterion mapped to a Response; left-out criteria are NO."""
    out = {cid: Response.NO for cid in catalog.criterion_ids}
    for cid, value in responses.items():
        if not isinstance(cid, str) or not catalog.has_criterion(cid):
            raise UnknownCriterionError(
                str(cid), f"unknown criterion {cid!r} for catalog {catalog.version}")
        try:
            out[cid] = Response(value)
        except ValueError:
            raise InvalidResponseError(
                cid, f"criterion {cid}: invalid response {value!r} "
                     f"(expected YES, IN_PROGRESS or NO)") from None
    return out


def score(catalog: Catalog, responses: Mapping[str, str]) -> ScoreResult:
    resp = normalize_responses(catalog, responses)

    met: dict[str, bool] = {}
    missing: dict[str, list[str]] = {}
    # Prerequisites first, so "met" is transitive: a prerequisite counts only if it
    # itself earned its point.
    for cid in catalog.evaluation_order:
        prereqs = catalog.criterion(cid).prerequisites
        missing[cid] = [p for p in sorted(prereqs, key=catalog.position) if not met[p]]
        met[cid] = resp[cid] is Response.YES and not missing[cid]

    criteria = [_criterion_score(c.id, c.area, list(c.components), resp[c.id], met[c.id],
                                 missing[c.id])
                for c in catalog.criteria]
    areas = []
    for a in catalog.areas:
        in_area = catalog.criteria_in_area(a.id)
        n = sum(met[c.id] for c in in_area)
        areas.append(AreaScore(id=a.id, met=n, total=len(in_area),
                               percent=percent(n, len(in_area))))

    n_met = sum(met.values())
    total = len(catalog.criteria)
    shown = percent(n_met, total)
    covered = {comp for c in catalog.criteria if met[c.id] for comp in c.components}
    components = [comp.id for comp in catalog.components if comp.id in covered]
    tier, explanation = decide_tier(catalog, shown, len(components))
    return ScoreResult(catalog_version=catalog.version, met=n_met, total=total, percent=shown,
                       tier=tier, tier_explanation=explanation, components=components,
                       areas=areas, criteria=criteria)


def _criterion_score(cid: str, area: str, components: list[str], response: Response,
                     met: bool, missing: list[str]) -> CriterionScore:
    if met:
        reason, text = Reason.MET, "Met: the response is YES."
    elif response is not Response.YES:
        reason, text = Reason.RESPONSE_NOT_YES, f"Not met: the response is {response.value}."
    else:
        reason = Reason.PREREQUISITE_NOT_MET
        noun = "prerequisite" if len(missing) == 1 else "prerequisites"
        text = f"Not met: {noun} {', '.join(missing)} not met."
    return CriterionScore(id=cid, area=area, components=components, response=response,
                          points=int(met), met=met, reason=reason, explanation=text,
                          missing_prerequisites=missing if not met else [])


def decide_tier(catalog: Catalog, shown_percent: int, n_components: int
                ) -> tuple[str | None, str]:
    """Highest tier whose percentage and breadth are both met, with the why in English."""
    name = lambda t: catalog.text(t, "en")
    by_points = [t for t in catalog.tiers if shown_percent >= t.min_percent]
    awarded = [t for t in by_points if n_components >= t.min_components]
    tier = awarded[-1] if awarded else None
    award = f"{name(tier)} awarded" if tier else "not certified"
    if not by_points:
        lowest = catalog.tiers[0]
        return None, (f"{shown_percent}% is below {name(lowest)}'s {lowest.min_percent}%; "
                      f"not certified")
    top = by_points[-1]
    if tier is top:
        return tier.id, (f"{shown_percent}% meets {name(top)}'s {top.min_percent}% with "
                         f"{n_components} Standard components ({top.min_components} "
                         f"required); {award}")
    return (tier.id if tier else None), (
        f"{shown_percent}% meets {name(top)}'s {top.min_percent}% but only {n_components} "
        f"of the {top.min_components} Standard components required; {award}")

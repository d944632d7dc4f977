"""The criteria catalog: pydantic models plus the semantic checks run at load.

A catalog is data (``catalogs/*.yaml``); nothing in the services may hard-wire its
size, its areas or its tiers. Models are frozen because one loaded catalog is cached
and shared by every caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from shared.i18n import DEFAULT_LANGUAGE, languages

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")]
CycleName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CatalogError(ValueError):
    """A catalog that cannot be used; the message names the file, the item and why."""

    def __init__(self, source: str, item: str | None, reason: str) -> None:
        self.source, self.item, self.reason = source, item, reason
        where = f"{source}: {item}" if item else source
        super().__init__(f"{where}: {reason}")


class Localized(RootModel[dict[str, NonEmpty]]):
    """A text in several languages: ``{en: ..., es: ..., pt: ...}``."""

    model_config = ConfigDict(frozen=True)

    def get(self, lang: str, default: str | None = None) -> str | None:
        return self.root.get(lang, default)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.root)


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Component(_Item):
    """One of the Standard's components: commit, measure, take_stock, act."""

    id: Id
    name: Localized
    description: Localized


class Area(_Item):
    id: Id
    name: Localized
    description: Localized


class Criterion(_Item):
    id: Id
    area: Id
    text: Localized
    components: tuple[Id, ...] = Field(min_length=1)
    prerequisites: tuple[Id, ...] = ()
    evidence: Localized
    evidence_required_for_yes: bool = True


class SnapshotQuestion(_Item):
    id: Id
    area: Id
    text: Localized
    related_criteria: tuple[Id, ...] = ()


class Tier(_Item):
    id: Id
    name: Localized
    description: Localized
    min_percent: int  # of the catalog's criteria, on the whole percent shown
    min_components: int  # breadth: Standard components with >= 1 criterion met


class Resource(_Item):
    """A "next step" offered to cities (Academy, Sprints, working group)."""

    id: Id
    name: Localized
    description: Localized
    url: str | None = None
    areas: tuple[Id, ...] = ()
    criteria: tuple[Id, ...] = ()
    for_tiers: tuple[Id, ...] = ()  # empty: offered to every city


class AuditReason(_Item):
    """A standard reason an auditor gives when changing a response. The auditor also
    writes their own explanation; ``text`` is the standard sentence shown beside it."""

    id: Id
    name: Localized  # short label (a choice in the auditor's console)
    text: Localized  # the standard sentence, e.g. "The requested documents were not ..."


class Eligibility(_Item):
    min_population: int = Field(gt=0)
    countries: tuple[CountryCode, ...] = Field(min_length=1)


class Catalog(_Item):
    version: Id
    title: Localized
    eligibility: Eligibility
    # The cycles cities may start, edit and submit an assessment for on this catalog (its
    # open cycles); any other cycle is refused at the edge (`invalid_cycle`).
    cycles: tuple[CycleName, ...] = Field(default=(), max_length=20)
    components: tuple[Component, ...] = Field(min_length=1)
    tiers: tuple[Tier, ...] = Field(min_length=1)  # ascending
    areas: tuple[Area, ...] = Field(min_length=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    snapshot: tuple[SnapshotQuestion, ...] = ()
    resources: tuple[Resource, ...] = ()
    audit_reasons: tuple[AuditReason, ...] = ()  # optional: older catalog files have none

    @cached_property
    def index(self) -> "_Index":
        """Look-up tables, built once (plain attributes: pydantic's private-attribute
        access costs more than the scoring itself)."""
        by_area: dict[str, list[Criterion]] = {a.id: [] for a in self.areas}
        for c in self.criteria:
            by_area.setdefault(c.area, []).append(c)
        return _Index(
            criteria={c.id: c for c in self.criteria},
            order={c.id: i for i, c in enumerate(self.criteria)},
            by_area={k: tuple(v) for k, v in by_area.items()},
        )

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the platform speaks that this catalog is written in (its title's:
        every other text has them too, a check makes sure)."""
        return tuple(lang for lang in languages() if lang in self.title.languages)

    # -- look-ups -------------------------------------------------------------
    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        try:
            return self.index.criteria[criterion_id]
        except KeyError:
            raise KeyError(f"catalog {self.version}: unknown criterion {criterion_id!r}") from None

    def has_criterion(self, criterion_id: str) -> bool:
        return criterion_id in self.index.criteria

    def position(self, criterion_id: str) -> int:
        """Index of the criterion in catalog order (the order of every listing)."""
        return self.index.order[criterion_id]

    def criteria_in_area(self, area_id: str) -> tuple[Criterion, ...]:
        if area_id not in self.index.by_area:
            raise KeyError(f"catalog {self.version}: unknown area {area_id!r}")
        return self.index.by_area[area_id]

    def area(self, area_id: str) -> Area:
        return _find(self.areas, area_id, "area", self.version)

    def component(self, component_id: str) -> Component:
        return _find(self.components, component_id, "component", self.version)

    def tier(self, tier_id: str) -> Tier:
        return _find(self.tiers, tier_id, "tier", self.version)

    def audit_reason(self, reason_id: str) -> AuditReason:
        return _find(self.audit_reasons, reason_id, "audit reason", self.version)

    def has_audit_reason(self, reason_id: str) -> bool:
        return any(r.id == reason_id for r in self.audit_reasons)

    def text(self, obj: Any, lang: str | None = None) -> str:
        """Text of ``obj`` in ``lang``, falling back to the default language (English).

        ``obj`` is a Localized, a ``{lang: text}`` mapping, or a catalog item (its
        ``text`` if it has one, else its ``name``).
        """
        if isinstance(obj, Localized):
            texts: Mapping[str, str] = obj.root
        elif isinstance(obj, Mapping):
            texts = obj
        else:
            texts = getattr(obj, "text", None) or obj.name
            texts = texts.root
        for candidate in (lang, DEFAULT_LANGUAGE):
            if candidate and texts.get(candidate):
                return texts[candidate]
        return next(iter(texts.values()))

    @cached_property
    def evaluation_order(self) -> tuple[str, ...]:
        """Criterion ids with every prerequisite before its dependants (stable)."""
        done: set[str] = set()
        order: list[str] = []
        pending = list(self.criterion_ids)
        while pending:
            ready = [c for c in pending if all(p in done for p in self.index.criteria[c].prerequisites)]
            if not ready:
                raise CatalogError(self.version, None, "cyclic prerequisites")
            for c in ready:
                done.add(c)
                order.append(c)
            pending = [c for c in pending if c not in done]
        return tuple(order)


@dataclass(frozen=True)
class _Index:
    criteria: dict[str, Criterion]
    order: dict[str, int]
    by_area: dict[str, tuple[Criterion, ...]]


def _find(items: tuple[Any, ...], item_id: str, kind: str, version: str) -> Any:
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(f"catalog {version}: unknown {kind} {item_id!r}")


# -- semantic checks -----------------------------------------------------------


def check_catalog(catalog: Catalog, source: str) -> None:
    """Raise CatalogError for the first rule the (structurally valid) catalog breaks."""
    err = lambda item, reason: CatalogError(source, item, reason)

    for kind, items in (
        ("component", catalog.components),
        ("tier", catalog.tiers),
        ("area", catalog.areas),
        ("criterion", catalog.criteria),
        ("snapshot question", catalog.snapshot),
        ("resource", catalog.resources),
        ("audit reason", catalog.audit_reasons),
    ):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise err(f"{kind} {item.id!r}", f"duplicate {kind} id")
            seen.add(item.id)
    if len(set(catalog.eligibility.countries)) != len(catalog.eligibility.countries):
        raise err("eligibility", "duplicate country code")

    areas = {a.id for a in catalog.areas}
    components = {c.id for c in catalog.components}
    criteria = set(catalog.criterion_ids)
    tiers = {t.id for t in catalog.tiers}

    for c in catalog.criteria:
        item = f"criterion {c.id!r}"
        if c.area not in areas:
            raise err(item, f"unknown area {c.area!r}")
        for comp in c.components:
            if comp not in components:
                raise err(item, f"unknown component {comp!r}")
        if len(set(c.components)) != len(c.components):
            raise err(item, "duplicate component")
        for p in c.prerequisites:
            if p not in criteria:
                raise err(item, f"unknown prerequisite {p!r}")
    _check_acyclic(catalog, err)

    for a in catalog.areas:
        if not catalog.criteria_in_area(a.id):
            raise err(f"area {a.id!r}", "area has no criteria")

    _check_tiers(catalog, err)

    for q in catalog.snapshot:
        if q.area not in areas:
            raise err(f"snapshot question {q.id!r}", f"unknown area {q.area!r}")
        for cid in q.related_criteria:
            if cid not in criteria:
                raise err(f"snapshot question {q.id!r}", f"unknown criterion {cid!r}")
    for r in catalog.resources:
        for ref, known, kind in ((r.areas, areas, "area"), (r.criteria, criteria, "criterion"),
                                 (r.for_tiers, tiers, "tier")):
            for x in ref:
                if x not in known:
                    raise err(f"resource {r.id!r}", f"unknown {kind} {x!r}")

    # Written in the default language, and every text in each language the title is in.
    if DEFAULT_LANGUAGE not in catalog.languages:
        raise err("catalog", f"missing translation for {DEFAULT_LANGUAGE} in title, the default language")
    required = set(catalog.languages)
    for item, field, text in _localized(catalog):
        missing = sorted(required - text.languages)
        if missing:
            raise err(item, f"missing translation for {', '.join(missing)} in {field}")


def _check_acyclic(catalog: Catalog, err: Any) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    prereqs = {c.id: c.prerequisites for c in catalog.criteria}

    def visit(cid: str, path: list[str]) -> None:
        if state.get(cid) == 2:
            return
        if state.get(cid) == 1:
            cycle = [*path[path.index(cid):], cid]
            raise err(f"criterion {cid!r}", f"cyclic prerequisite: {' -> '.join(cycle)}")
        state[cid] = 1
        for p in prereqs[cid]:
            visit(p, [*path, cid])
        state[cid] = 2

    for cid in prereqs:
        visit(cid, [])


def _check_tiers(catalog: Catalog, err: Any) -> None:
    n_components = len(catalog.components)
    reachable = len({comp for c in catalog.criteria for comp in c.components})
    previous: Tier | None = None
    for t in catalog.tiers:
        item = f"tier {t.id!r}"
        if not 1 <= t.min_percent <= 100:
            raise err(item, f"min_percent {t.min_percent} out of range 1..100")
        if previous and t.min_percent <= previous.min_percent:
            raise err(item, f"tier thresholds out of order: {t.id} {t.min_percent}% must be "
                            f"above {previous.id} {previous.min_percent}%")
        if not 0 <= t.min_components <= n_components:
            raise err(item, f"breadth rule out of range: min_components {t.min_components} "
                            f"not in 0..{n_components}")
        if t.min_components > reachable:
            raise err(item, f"breadth rule out of range: criteria cover only {reachable} "
                            f"components, tier needs {t.min_components}")
        if previous and t.min_components < previous.min_components:
            raise err(item, f"breadth rule out of range: min_components {t.min_components} "
                            f"below {previous.id}'s {previous.min_components}")
        previous = t


def _localized(catalog: Catalog) -> Iterator[tuple[str, str, Localized]]:
    """Every translatable text, with the item and field it belongs to."""
    yield "catalog", "title", catalog.title
    groups: list[tuple[str, tuple[BaseModel, ...]]] = [
        ("component", catalog.components), ("tier", catalog.tiers), ("area", catalog.areas),
        ("criterion", catalog.criteria), ("snapshot question", catalog.snapshot),
        ("resource", catalog.resources), ("audit reason", catalog.audit_reasons),
    ]
    for kind, items in groups:
        for item in items:
            for field in type(item).model_fields:
                value = getattr(item, field)
                if isinstance(value, Localized):
                    yield f"{kind} {item.id!r}", field, value  # type: ignore[attr-defined]

"""Names of tiers, practice areas and audit reasons in a language, from the bundled
catalogs (newest version first), for pages and mail that show ids recorded in reports and
events. Nothing here hard-wires a tier or an area: an id no catalog knows is shown as it is."""

from __future__ import annotations

from functools import cache

from shared.catalog.loader import list_catalogs, load_catalog
from shared.catalog.model import Catalog
from shared.i18n import languages


@cache
def _bundled(spoken: tuple[str, ...]) -> tuple[Catalog, ...]:  # keyed by the languages spoken
    return tuple(load_catalog(v) for v in reversed(list_catalogs()))


def _catalogs() -> tuple[Catalog, ...]:
    """The bundled catalogs, newest first, with their texts in every language spoken now."""
    return _bundled(languages())


def _first(kind: str, item_id: str):
    for catalog in _catalogs():
        for item in getattr(catalog, kind):
            if item.id == item_id:
                return catalog, item
    return None, None


def tier_name(tier_id: str, lang: str) -> str:
    catalog, tier = _first("tiers", tier_id)
    return catalog.text(tier.name, lang) if tier else tier_id


def tier_rank(tier_id: str | None) -> int:
    """Higher for a higher tier (by its threshold); -1 for no tier or one no catalog knows."""
    _, tier = _first("tiers", tier_id) if tier_id else (None, None)
    return tier.min_percent if tier else -1


def tier_ids() -> list[str]:
    """Every tier id of the bundled catalogs, lowest first."""
    seen: dict[str, int] = {}
    for catalog in _catalogs():
        for tier in catalog.tiers:
            seen.setdefault(tier.id, tier.min_percent)
    return sorted(seen, key=seen.__getitem__)


def area_name(area_id: str, lang: str) -> str:
    catalog, area = _first("areas", area_id)
    return catalog.text(area.name, lang) if area else area_id


def area_ids() -> list[str]:
    """Area ids in catalog order (newest catalog first, then any others)."""
    seen: list[str] = []
    for catalog in _catalogs():
        seen += [a.id for a in catalog.areas if a.id not in seen]
    return seen


def reason(reason_id: str, lang: str) -> tuple[str, str]:
    """An audit reason's short name and standard sentence."""
    catalog, found = _first("audit_reasons", reason_id)
    if found is None:
        return reason_id, ""
    return catalog.text(found.name, lang), catalog.text(found.text, lang)


def criterion_text(criterion_id: str, lang: str) -> str:
    """A criterion's statement (its name in the catalog); the id when no catalog knows it."""
    catalog, found = _first("criteria", criterion_id)
    return catalog.text(found, lang) if found else criterion_id


def criterion_label(criterion_id: str, lang: str) -> str:
    """"DG1 — <its statement>" (an id alone means little); the id when no catalog knows it."""
    text = criterion_text(criterion_id, lang)
    return criterion_id if text == criterion_id else f"{criterion_id} — {text}"

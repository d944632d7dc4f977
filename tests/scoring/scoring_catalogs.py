"""Catalog builders shared by the scoring tests (imported as a plain module)."""

from __future__ import annotations

import copy
from typing import Any

from shared.catalog import Catalog, parse_catalog


def variant(data: dict[str, Any], **changes: Any) -> Catalog:
    out = copy.deepcopy(data)
    out.update(changes)
    return parse_catalog(out, source="variant")


def synthetic(n: int, *, silver: int = 51, gold: int = 67, platinum: int = 85,
              components: list[list[str]] | None = None) -> dict[str, Any]:
    """A one-area, English-only catalog of ``n`` criteria X1..Xn."""
    t = lambda s: {"en": s}
    comps = ["commit", "measure", "take_stock", "act"]
    return {
        "version": f"synthetic-{n}",
        "title": t("Synthetic"),
        "eligibility": {"min_population": 30000, "countries": ["US"]},
        "components": [{"id": c, "name": t(c), "description": t(c)} for c in comps],
        "tiers": [
            {"id": "silver", "min_percent": silver, "min_components": 2,
             "name": t("Silver"), "description": t("s")},
            {"id": "gold", "min_percent": gold, "min_components": 3,
             "name": t("Gold"), "description": t("g")},
            {"id": "platinum", "min_percent": platinum, "min_components": 4,
             "name": t("Platinum"), "description": t("p")},
        ],
        "areas": [{"id": "X", "name": t("X"), "description": t("X")}],
        "criteria": [
            {"id": f"X{i + 1}", "area": "X",
             "components": (components[i] if components else [comps[i % 4]]),
             "text": t(f"X{i + 1}"), "evidence": t("proof")}
            for i in range(n)
        ],
    }

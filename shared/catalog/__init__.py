"""The versioned criteria catalog: a contract read by intake, audit, scoring and reporting."""

from shared.catalog.loader import list_catalogs, load_catalog, load_catalog_file, parse_catalog
from shared.catalog.model import (
    Area,
    AuditReason,
    Catalog,
    CatalogError,
    Component,
    Criterion,
    Eligibility,
    Localized,
    Resource,
    SnapshotQuestion,
    Tier,
)

__all__ = [
    "Area",
    "AuditReason",
    "Catalog",
    "CatalogError",
    "Component",
    "Criterion",
    "Eligibility",
    "Localized",
    "Resource",
    "SnapshotQuestion",
    "Tier",
    "list_catalogs",
    "load_catalog",
    "load_catalog_file",
    "parse_catalog",
]

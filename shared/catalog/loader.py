"""Load and validate catalog files; every failure is a CatalogError naming the file.

A catalog file holds its texts in every language side by side. A language added later may
bring a catalog's texts in a file of their own, `<catalog>/<lang>.yaml` beside it (or in a
language pack, see `shared.i18n`): `title`, then each list by item id, e.g.
`tiers: {gold: {name: Or, description: ...}}`; they are merged in before validation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shared.catalog.model import Catalog, CatalogError, check_catalog
from shared.i18n import languages
from shared.i18n.languages import files

CATALOG_DIR = Path(__file__).parent / "catalogs"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_lock = threading.Lock()
# Keyed by (resolved path, mtime, size) of the file and of its texts files: an edited file
# is re-read, an unchanged one is not.
_cache: dict[tuple[tuple[str, int, int], ...], Catalog] = {}
_bundled: dict[tuple[str, tuple[str, ...]], Catalog] = {}  # by version and languages spoken
_LISTS = ("components", "tiers", "areas", "criteria", "snapshot", "resources", "audit_reasons")


def list_catalogs() -> list[str]:
    """Versions of the bundled catalogs, sorted."""
    return sorted(p.stem for p in CATALOG_DIR.glob("*.yaml"))


def load_catalog(version: str) -> Catalog:
    """The bundled catalog ``version`` (e.g. ``wwc-2019``), validated and cached.

    Bundled catalogs ship with the code and never change while it runs: after the first
    load a version is one dictionary look-up (services call this on every request), for
    as long as the same languages are spoken."""
    found = _bundled.get((version, languages()))
    if found is not None:
        return found
    if not _VERSION.match(version or ""):
        raise CatalogError(str(version), None, "invalid catalog version")
    path = CATALOG_DIR / f"{version}.yaml"
    if not path.is_file():
        known = ", ".join(list_catalogs()) or "none"
        raise CatalogError(version, None, f"unknown catalog version (known: {known})")
    catalog = load_catalog_file(path)
    if catalog.version != version:
        raise CatalogError(str(path), "version", f"file declares {catalog.version!r}, "
                                                 f"its name says {version!r}")
    _bundled[(version, languages())] = catalog
    return catalog


def load_catalog_file(path: str | Path) -> Catalog:
    """Any catalog file (tests, a catalog under review), validated and cached."""
    path = Path(path)
    texts = [(lang, found) for lang in languages() for found in files(path.parent / path.stem, f"{lang}.yaml")]
    try:
        key = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in (path, *(f for _, f in texts)))
    except OSError as exc:
        raise CatalogError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    with _lock:
        if key in _cache:
            return _cache[key]
    data = _read(path)
    for lang, found in texts:
        _add_texts(data, lang, _read(found), str(found))
    catalog = parse_catalog(data, source=str(path))
    with _lock:
        _cache[key] = catalog
    return catalog


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # a SafeLoader subclass
    except OSError as exc:
        raise CatalogError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(str(path), None, f"invalid YAML: {exc}") from None


def _add_texts(data: Any, lang: str, texts: Any, source: str) -> None:
    """One language's texts of a catalog (`title`, then `<list>: {<id>: {<field>: text}}`)
    into the catalog's data, beside its other languages."""
    if not isinstance(data, Mapping) or not isinstance(texts, Mapping):
        raise CatalogError(source, None, "a catalog and its texts must be mappings at the top level")
    for kind, entries in texts.items():
        if kind == "title":
            _add_text(data, "title", entries, lang, source, "catalog")
            continue
        if kind not in _LISTS or not isinstance(entries, Mapping):
            raise CatalogError(source, str(kind), "not a list of the catalog's items by id")
        items = {item.get("id"): item for item in data.get(kind) or () if isinstance(item, Mapping)}
        for item_id, fields in entries.items():
            if item_id not in items or not isinstance(fields, Mapping):
                raise CatalogError(source, f"{kind} {item_id!r}", "not an item of the catalog")
            for field, text in fields.items():
                _add_text(items[item_id], field, text, lang, source, f"{kind} {item_id!r}")


def _add_text(item: Any, field: str, text: Any, lang: str, source: str, name: str) -> None:
    if not isinstance(item.get(field), dict):
        raise CatalogError(source, name, f"{field} is not a text of the catalog")
    item[field][lang] = text


def parse_catalog(data: Any, source: str = "<catalog>") -> Catalog:
    """Validate already-parsed data (a mapping) as a catalog."""
    if not isinstance(data, Mapping):
        raise CatalogError(source, None, "a catalog must be a mapping at the top level")
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        raise _from_validation_error(exc, data, source) from None
    check_catalog(catalog, source)
    return catalog


def _from_validation_error(exc: ValidationError, data: Mapping[str, Any], source: str
                           ) -> CatalogError:
    first = exc.errors()[0]
    loc = first["loc"]
    item = None
    # Name the item by its id when the error is inside a list of items (criteria[3] -> DG4).
    if len(loc) >= 2 and isinstance(loc[1], int):
        entries = data.get(loc[0])
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        ident = entry.get("id") if isinstance(entry, Mapping) else None
        kind = {"criteria": "criterion", "areas": "area", "components": "component",
                "tiers": "tier", "snapshot": "snapshot question", "resources": "resource",
                "audit_reasons": "audit reason"}.get(str(loc[0]), str(loc[0]))
        item = f"{kind} {ident!r}" if ident else f"{loc[0]}[{loc[1]}]"
        loc = loc[2:]
    field = ".".join(str(p) for p in loc)
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return CatalogError(source, item, f"{field + ': ' if field else ''}{first['msg']}{more}")


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

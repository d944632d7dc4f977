"""The languages the platform speaks: one list, read by every surface, API and check.

`BUILT_IN` is the list. A language pack adds languages for as long as it is entered
(`language_pack`): a directory laid out like the repository that holds, at the same paths,
the strings files and catalog texts of its languages. The test that adds French uses one;
a deployment could enter one at start-up the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from babel import Locale
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema

BUILT_IN: tuple[str, ...] = ("en", "es", "pt")
DEFAULT_LANGUAGE = "en"  # every string and catalog text exists in it; missing ones fall back to it
ROOT = Path(__file__).resolve().parents[2]  # the repository: a pack mirrors paths under it

_packs: list[tuple[Path, tuple[str, ...]]] = []


def languages() -> tuple[str, ...]:
    """Every language the platform speaks, the built-in ones first."""
    extra = (code for _, codes in _packs for code in codes if code not in BUILT_IN)
    return BUILT_IN + tuple(dict.fromkeys(extra))


def language(code: str | None) -> str:
    """The language a tag names if the platform speaks it (`pt-BR` -> `pt`), else the default."""
    primary = (code or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in languages() else DEFAULT_LANGUAGE


def language_name(code: str, in_language: str | None = None) -> str:
    """A language's name in its own language ("Español", for a language picker) or in
    another ("Spanish" in English), from CLDR."""
    name = Locale.parse(in_language or code).languages.get(code, code)
    return name[:1].upper() + name[1:]


def files(directory: Path, name: str) -> list[Path]:
    """The file `name` in `directory`, then the same file under each entered pack; those
    that exist, the later ones overriding the earlier ones."""
    candidates = [directory / name]
    try:
        relative = directory.resolve().relative_to(ROOT)
    except ValueError:  # not a directory of the repository: nothing for packs to mirror
        relative = None
    if relative is not None:
        candidates += [root / relative / name for root, _ in _packs]
    return [path for path in candidates if path.is_file()]


@contextmanager
def language_pack(root: Path, *codes: str) -> Iterator[None]:
    """Speak the languages `codes` too, with the strings files and catalog texts found
    under `root` (e.g. `root/shared/web/locales/fr.yaml`), until the block ends."""
    entry = (Path(root).resolve(), tuple(codes))
    _packs.append(entry)
    try:
        yield
    finally:
        _packs.remove(entry)


def _spoken(code: str) -> str:
    if code not in languages():
        raise ValueError(f"not a language the platform speaks ({', '.join(languages())})")
    return code


class _Spoken:
    """Validates a language code against `languages()`; the JSON schema (and so OpenAPI)
    lists them, as read when the schema is made."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_spoken, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict:
        out = handler(schema)
        out["enum"] = list(languages())
        return out


Lang = Annotated[str, _Spoken()]

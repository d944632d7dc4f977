"""UI strings in English, Spanish and Portuguese for every console.

Strings live in YAML files (nested keys, read as ``a.b.c``): the ones every console shares
in ``shared/web/locales/<lang>.yaml`` (layout, errors by code, stages, answers, countries),
a console's own next to its templates. A console's file may override a shared key. The
language is chosen by ``?lang=``, then the ``wwc_lang`` cookie, then Accept-Language.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale

LANGUAGES: tuple[str, ...] = ("en", "es", "pt")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "pt": "Português"}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "wwc_lang"
SHARED_LOCALES = Path(__file__).parent / "locales"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@cache
def load_file(path: Path) -> dict[str, str]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


def messages(lang: str, dirs: Sequence[Path] = ()) -> dict[str, str]:
    """All strings of one language: the shared ones, then each console directory's."""
    out = dict(load_file(SHARED_LOCALES / f"{lang}.yaml"))
    for directory in dirs:
        path = Path(directory) / f"{lang}.yaml"
        if path.is_file():
            out.update(load_file(path))
    return out


class Translator:
    """``t("snapshot.title")`` or ``t("progress", done=3, total=5)`` in one language, falling
    back to English for a missing key, and to the key itself (visible, caught by tests)."""

    def __init__(self, lang: str, dirs: Sequence[Path] = ()) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._strings = messages(self.lang, tuple(dirs))
        self._fallback = messages(DEFAULT_LANGUAGE, tuple(dirs)) if self.lang != DEFAULT_LANGUAGE else self._strings

    def has(self, key: str) -> bool:
        return key in self._strings or key in self._fallback

    def plural(self, key: str, count: int, **params: Any) -> str:
        """``key.one`` / ``key.other`` (and the other CLDR forms) by the language's plural rule
        for ``count``: "1 case", "2 cases" instead of "case(s)"."""
        form = Locale.parse(self.lang).plural_form(count)
        chosen = f"{key}.{form}" if self.has(f"{key}.{form}") else f"{key}.other"
        return self(chosen, count=count, **params)

    def __call__(self, key: str, **params: Any) -> str:
        text = self._strings.get(key) or self._fallback.get(key)
        if text is None:
            return key
        if not params:
            return text
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text


def parse_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (``es-MX,es;q=0.9`` -> ``es``)."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "")[:1000].split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary not in LANGUAGES or quality <= 0:
            continue
        # Highest quality wins; on a tie, the one listed first.
        key = (quality, -index, primary)
        if best is None or key > best:
            best = key
    return best[2] if best else None


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate and candidate.lower() in LANGUAGES:
            return candidate.lower()
    return parse_accept_language(accept_language) or DEFAULT_LANGUAGE

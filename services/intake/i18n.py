"""UI strings of the city portal in English, Spanish and Portuguese.

Strings live in ``locales/<lang>.yaml`` (nested keys, read as ``a.b.c``); catalog texts
(areas, criteria, questions, evidence guidance) come from the catalog, not from here.
The language is chosen by ``?lang=``, then the ``wwc_lang`` cookie, then Accept-Language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES: tuple[str, ...] = ("en", "es", "pt")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "wwc_lang"
LOCALE_DIR = Path(__file__).parent / "locales"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@cache
def messages(lang: str) -> dict[str, str]:
    """All strings of one language, flattened to dotted keys."""
    with open(LOCALE_DIR / f"{lang}.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


class Translator:
    """``t("snapshot.title")`` or ``t("progress", done=3, total=5)`` in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._strings = messages(self.lang)
        self._fallback = messages(DEFAULT_LANGUAGE)

    def has(self, key: str) -> bool:
        return key in self._strings or key in self._fallback

    def __call__(self, key: str, **params: Any) -> str:
        text = self._strings.get(key) or self._fallback.get(key)
        if text is None:
            return key  # visible in the page, and caught by the locale tests
        return text.format(**params) if params else text


def parse_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (``es-MX,es;q=0.9`` -> ``es``)."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "").split(",")):
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

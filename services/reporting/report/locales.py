"""The report's own strings (labels, sentences) in English, Spanish and Portuguese.

Strings live in ``locales/<lang>.yaml`` with identical nested keys, read as ``a.b.c``.
Catalog texts (areas, criteria, tiers, reasons, resources) are not here: the document
carries them. Numbers, dates and plural forms follow each language's CLDR rules (Babel).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from num2words import num2words

LANGUAGES: tuple[str, ...] = ("en", "es", "pt")
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
    if lang not in LANGUAGES:
        raise ValueError(f"no report strings for language {lang!r}")
    data = yaml.safe_load((LOCALE_DIR / f"{lang}.yaml").read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


class Strings:
    """``t("cover.title")``, ``t("headline", met=28)``, ``t.plural("steps", 3)`` and
    locale-aware numbers and dates, all in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._strings = messages(lang)
        self._locale = Locale.parse(lang)

    def __call__(self, key: str, **params: Any) -> str:
        try:
            text = self._strings[key]
        except KeyError:
            raise KeyError(f"report string {key!r} missing in {self.lang}.yaml") from None
        return text.format(**params) if params else text

    def plural(self, key: str, count: int, **params: Any) -> str:
        """``key.one`` or ``key.other`` by the language's plural rule for ``count``."""
        form = self._locale.plural_form(count)
        key = f"{key}.{form}" if f"{key}.{form}" in self._strings else f"{key}.other"
        return self(key, count=self.number(count), **params)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self._locale)

    def percent(self, value: int) -> str:
        """A whole percentage as the language writes it (45%, 45 %)."""
        return format_percent(value / 100, locale=self._locale)

    def words(self, value: int) -> str:
        """Small counts in words, as prose does ("eight practice areas"). One and two
        stay digits: their words take the noun's gender in Spanish and Portuguese."""
        return num2words(value, lang=self.lang) if 3 <= value <= 12 else self.number(value)

    def date(self, value: datetime) -> str:
        return format_date(value.date(), format="long", locale=self._locale)

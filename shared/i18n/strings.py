"""Keyed strings and the one Translator of every surface.

A surface keeps its strings in YAML files, one per language, `<its locales dir>/<lang>.yaml`
(nested keys, read as `a.b.c`): the consoles' shared ones in `shared/web/locales`, each
console's beside its templates, the report's in `services/reporting/report/locales`, the
mail's in `services/notify/locales`. A Translator reads one language from a list of such
directories (a later one may override a key), falls back to English for a missing key and
to the key itself (visible, and caught by the tests), and writes numbers, percentages,
dates, plural forms and small numbers in words by the language's CLDR rules (Babel).
Catalog texts (tiers, areas, criteria, reasons) are never strings: they come from the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from num2words import num2words

from shared.i18n.languages import DEFAULT_LANGUAGE, files, language


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@cache
def load_file(path: Path) -> dict[str, str]:
    """One strings file, flattened to dotted keys."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


def messages(lang: str, dirs: Sequence[Path]) -> dict[str, str]:
    """Every string of one language in these directories (and their packs' copies)."""
    out: dict[str, str] = {}
    for directory in dirs:
        for path in files(Path(directory), f"{lang}.yaml"):
            out.update(load_file(path))
    return out


class Translator:
    """`t("snapshot.title")`, `t("progress", done=3, total=5)`, `t.plural("steps", 3)`,
    `t.percent(45)`, `t.date(when)`: everything in one language."""

    def __init__(self, lang: str, dirs: Sequence[Path]) -> None:
        self.lang = language(lang)
        self.locale = Locale.parse(self.lang)
        self._strings = messages(self.lang, dirs)
        self._fallback = messages(DEFAULT_LANGUAGE, dirs) if self.lang != DEFAULT_LANGUAGE else self._strings

    def has(self, key: str) -> bool:
        return key in self._strings or key in self._fallback

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

    def plural(self, key: str, count: int, **params: Any) -> str:
        """`key.one` / `key.other` (and the other CLDR forms) by the language's plural rule
        for `count`: "1 case", "2 cases" instead of "case(s)"; `{count}` as a number."""
        form = self.locale.plural_form(count)
        chosen = f"{key}.{form}" if self.has(f"{key}.{form}") else f"{key}.other"
        return self(chosen, count=self.number(count), **params)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float, digits: int | None = None) -> str:
        """A percentage as the language writes it, as precise as the figure (45%, 45,5 %);
        with `digits`, always that many decimals (63 -> 63.0%), so a column reads evenly."""
        if digits is None:
            return format_percent(Decimal(str(value)) / 100, locale=self.locale, decimal_quantization=False)
        pattern = re.sub(r"0(?=[^0#]*$)", "0." + "0" * digits, self.locale.percent_formats[None].pattern, count=1)
        return format_percent(Decimal(str(value)) / 100, format=pattern, locale=self.locale)

    def words(self, value: int) -> str:
        """Small counts in words, as prose does ("eight practice areas"). One and two
        stay digits: their words take the noun's gender in Spanish and Portuguese."""
        if 3 <= value <= 12:
            try:
                return num2words(value, lang=self.lang)
            except NotImplementedError:  # a language num2words does not write
                pass
        return self.number(value)

    def date(self, value: datetime) -> str:
        return format_date(value.date(), format="long", locale=self.locale)

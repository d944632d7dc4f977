"""What the consoles' string tests share: the placeholders of a string, and the keys a
console's sources ask for (`t("a.b")`, and `t.plural("a.b", n)` as its `a.b.other` form)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from pathlib import Path

_KEY = r"""\(\s*["']([a-z_]+\.[A-Za-z_.]+)["']"""


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def keys_used(sources: Iterable[Path]) -> set[str]:
    used: set[str] = set()
    for source in sources:
        text = source.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt" + _KEY, text))
        used |= {f"{key}.other" for key in re.findall(r"\bt\.plural" + _KEY, text)}
    return used

"""Text fields people type that end up in headers, file names and pages: one line, no
control or bidi-override characters (they break mail headers and disguise names)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# C0/C1 controls (tab and newline included: a single line), DEL, and the Unicode
# bidi embedding/override/isolate controls that can make text display reversed.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def single_line(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("must be one line without control characters")
    return unicodedata.normalize("NFC", value)


def strip_controls(value: str) -> str:
    """For text already stored: the same characters replaced by spaces, collapsed."""
    return re.sub(r"\s+", " ", _FORBIDDEN.sub(" ", value)).strip()


SingleLine = Annotated[str, AfterValidator(single_line)]

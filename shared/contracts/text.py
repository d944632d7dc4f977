"""Text fields people type that end up in headers, file names and pages: one line, no
control or bidi-override characters (they break mail headers and disguise names)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

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


# A web address in a name: a scheme ("https://", "ftp:"), "www.", an e-mail address, or a
# host name ending in a lower-case top-level domain ("evil.example", "bit.ly/x"). Names
# travel into mail and pages where a link is an invitation to click; "St. Louis",
# "Winston-Salem" or "Jordan J. Lee" stay names.
_LINK = re.compile(r"(?i:[a-z][a-z0-9+.-]*:/+|\bwww\.|[\w.+-]+@[\w-]+\.)"
                   r"|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,63}(?:[/:?#]|\b)(?!\.\s)", re.UNICODE)
LINK_IN_NAME = "link_in_name"


def no_link(value: str) -> str:
    if _LINK.search(value):
        raise PydanticCustomError(LINK_IN_NAME, "must not contain a web or e-mail address")
    return value


# A name people give (a city's, a person's): one line, and no link.
Name = Annotated[str, AfterValidator(single_line), AfterValidator(no_link)]

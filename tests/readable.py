"""Words people can read: what every console's page check refuses to show."""

from __future__ import annotations

import re

# What people must never read on a page: machine ids, codes and timestamps, and the lazy
# "(s)" plural. (Visible text only: ids in URLs, form values and attributes are fine.)
UNREADABLE = {
    "an id": re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b|\b[0-9a-f]{32}\b"),
    "a code": re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b"),
    "a timestamp": re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    "a (s) plural": re.compile(r"\w\(s\)"),
}


def unreadable(text: str) -> list[str]:
    """Each piece of `text` a person should not have to read, with what it is."""
    return [f"{what}: {m.group(0)!r}" for what, pattern in UNREADABLE.items() for m in pattern.finditer(text)]

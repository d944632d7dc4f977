"""Scoring's HTTP edge for errors (common codes come from shared.web.problems)."""

from __future__ import annotations

from shared.web.problems import ErrorTable

ERRORS = ErrorTable({
    "unknown_catalog": (404, "Unknown catalog"),
})

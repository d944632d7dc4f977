"""Scoring's domain errors (codes mapped to HTTP in services/scoring/problems.py)."""

from __future__ import annotations

from shared.errors import DomainError, InvalidInput, NotFound

__all__ = ["InvalidInput", "NotFound", "UnknownCatalog"]


class UnknownCatalog(DomainError):
    code = "unknown_catalog"

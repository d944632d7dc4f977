"""Audit's JSON API under /api/v1, one module per part of the review. Handlers are thin:
typed dependencies give them the runtime, the options and the caller; each opens one unit
of work, calls a use case and shapes the answer. Auditors act, operators read, cities get
nothing (401/403). Errors are domain errors answered as problem+json with a code
(`services/audit/problems.py`). A case is addressed by its submission's id."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit.api import calibration, review
from services.audit.appeals import api as appeals
from services.audit.cases import api as cases
from services.audit.conflicts import api as conflicts
from services.audit.second_review import api as second_review
from services.audit.signoff import api as signoff
from services.audit.trail import api as trail

router = APIRouter(prefix="/api/v1")
for module in (cases, review, signoff, second_review, calibration, trail, conflicts, appeals):
    router.include_router(module.router)

__all__ = ["router"]

"""Intake's JSON API under /api/v1, one module per journey. Handlers are thin: typed
dependencies give them the runtime, a session and the signed-in city; they call one use
case and shape the answer. Errors are domain errors, answered as problem+json with a code
(`services/intake/problems.py`). A city only ever sees its own data: another city's ids
answer 404."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.api import accounts, appeals, assessment, clarifications, evidence, snapshot, submission

router = APIRouter(prefix="/api/v1")
for module in (accounts, snapshot, assessment, evidence, submission, clarifications, appeals):
    router.include_router(module.router)

__all__ = ["router"]

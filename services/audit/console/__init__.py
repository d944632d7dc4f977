"""The auditor console: server-rendered pages under /audit, one module per journey on the
shared console machinery (`shared.web.pages`). Auditors act; operators read every page."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit.console import appeals, calibration, case, queue, review, second_review, settings, signoff
from services.audit.console.console import AUDIT
from shared.web.signin import sign_in_router

router = APIRouter()
router.include_router(AUDIT.router(assets=True))
router.include_router(sign_in_router(AUDIT))
for module in (queue, case, review, signoff, second_review, calibration, settings, appeals):
    router.include_router(module.router)

__all__ = ["AUDIT", "router"]

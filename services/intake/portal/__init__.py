"""The city portal: server-rendered pages under /portal for everything a city does, one
module per journey on the shared console machinery (`shared.web.pages`)."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.portal import (
    accounts,
    appeals,
    assessment,
    city,
    clarifications,
    evidence,
    home,
    snapshot,
    submission,
)
from services.intake.portal.console import PORTAL

router = APIRouter()
router.include_router(PORTAL.router(assets=True))
for module in (accounts, home, city, snapshot, assessment, evidence, submission, clarifications, appeals):
    router.include_router(module.router)

__all__ = ["PORTAL", "router"]

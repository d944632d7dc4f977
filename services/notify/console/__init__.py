"""Notify's pages: `/booking` (cities) and `/slots` (auditors), each with its sign-in."""

from __future__ import annotations

from fastapi import APIRouter

from services.notify.console import booking, slots
from services.notify.console.common import BOOKING, SLOTS
from shared.web.signin import sign_in_router

router = APIRouter()
for console in (BOOKING, SLOTS):
    router.include_router(console.router(assets=True))
    router.include_router(sign_in_router(console))
# Fixed paths (preferences, sign-in) are matched before `/booking/{submission_id}`.
router.include_router(booking.router)
router.include_router(slots.router)

__all__ = ["BOOKING", "SLOTS", "router"]

"""Notify's JSON API under /api/v1: debrief slots and bookings, people's mail preferences,
and the mail log for operators. Handlers are thin: they call one use case in a unit of
work, then wake the relay and the sender and signal the workflow."""

from __future__ import annotations

from fastapi import APIRouter

from services.notify.api import mail, preferences
from services.notify.debriefs import api as debriefs

router = APIRouter(prefix="/api/v1")
for module in (debriefs, preferences, mail):
    router.include_router(module.router)

__all__ = ["router"]

"""Notify's HTTP edge for errors: each notify code with its status and title (the common
codes, e.g. `not_found`, come from `shared.web.problems.COMMON_ERRORS`)."""

from __future__ import annotations

from shared.errors import DomainError
from shared.web.problems import COMMON_ERRORS, ErrorTable

ERRORS = ErrorTable({
    "slot_taken": (409, "Slot already taken"),
    "slot_booked": (409, "Slot is booked"),
    "slot_overlaps": (409, "Slot overlaps another"),
    "invalid_slot": (422, "Invalid slot"),
    "too_soon": (422, "Too soon"),
    "offer_closed": (409, "Debrief offer closed"),
    "offer_expired": (409, "Debrief offer expired"),
    "already_booked": (409, "Debrief already booked"),
    "not_booked": (409, "No call booked"),
    "call_not_started": (409, "Call not started yet"),
    "mail_not_parked": (409, "Mail not parked"),
})

_TABLE = COMMON_ERRORS | ERRORS


def problems(*errors: str | type[DomainError]) -> dict:
    """The problem+json responses of an operation, by code or error class."""
    return _TABLE.responses(*errors)

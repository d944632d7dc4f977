"""Notify's domain errors, each with a stable `code` (`services/notify/problems.py` maps
them to HTTP; the consoles' locales to messages). Generic ones come from `shared.errors`."""

from __future__ import annotations

from shared.errors import DomainError, Forbidden, InvalidInput, NotFound, Unavailable

__all__ = [
    "AlreadyBooked", "CallNotStarted", "Forbidden", "InvalidInput", "InvalidSlot", "MailNotParked",
    "NotBooked", "NotFound", "OfferClosed", "OfferExpired", "SlotBooked", "SlotOverlaps", "SlotTaken",
    "TooSoon", "Unavailable",
]


class SlotTaken(DomainError):
    """Someone else booked the slot first (or it was withdrawn)."""

    code = "slot_taken"


class SlotBooked(DomainError):
    """A booked slot cannot be withdrawn: cancel or move the call first."""

    code = "slot_booked"


class SlotOverlaps(DomainError):
    code = "slot_overlaps"


class InvalidSlot(DomainError):
    code = "invalid_slot"


class TooSoon(DomainError):
    """The slot starts in the past or with less notice than a booking needs."""

    code = "too_soon"


class OfferClosed(DomainError):
    """The debrief is over: declined, expired, or the call's outcome is recorded."""

    code = "offer_closed"


class OfferExpired(DomainError):
    code = "offer_expired"


class AlreadyBooked(DomainError):
    """The city has a call booked: move it or cancel it instead."""

    code = "already_booked"


class NotBooked(DomainError):
    code = "not_booked"


class CallNotStarted(DomainError):
    code = "call_not_started"


class MailNotParked(DomainError):
    """Only a parked mail is retried by hand (a pending one is retried by itself)."""

    code = "mail_not_parked"

"""Facts notify publishes: debrief offers and bookings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.contracts.vocabulary import DebriefEnding


class DebriefOffered(BaseModel):
    submission_id: str
    offer_id: str
    email: str | None = None
    city_id: str | None = None
    expires_at: datetime | None = None
    booking_url: str | None = None


class DebriefBooked(BaseModel):
    submission_id: str
    offer_id: str
    booking_id: str
    slot_id: str
    auditor_id: str
    starts_at: datetime
    ends_at: datetime
    call_url: str
    sequence: int = 0
    # Who at the city booked the call (their display name): the auditor's case page names them.
    booked_by_name: str = ""
    timezone: str = ""  # the slot's zone (the auditor's, as they published it)


class DebriefRescheduled(DebriefBooked):
    previous_starts_at: datetime
    by: str = ""
    by_name: str = ""  # who moved it (display name)


class DebriefCancelled(BaseModel):
    submission_id: str
    offer_id: str
    booking_id: str
    starts_at: datetime
    by: str = ""
    by_name: str = ""  # who cancelled it (display name)
    reason: str = ""


class DebriefCompleted(BaseModel):
    """The debrief stage is over: held (with the auditor's notes), declined or expired."""

    submission_id: str
    offer_id: str
    outcome: DebriefEnding
    notes: str = ""


class MailFailed(BaseModel):
    """A mail was parked after its retries ran out: operators see it and can retry it."""

    mail_id: str
    kind: str
    to: str
    attempts: int
    error: str = ""
    city_id: str | None = None
    submission_id: str | None = None


class MailRetried(BaseModel):
    """An operator sent a parked mail back to the sender."""

    mail_id: str

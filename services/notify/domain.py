"""Notify's rules, without I/O: who gets which kind of mail, the Message-ID of a mail,
retry delays, the debrief rules (offer window, slots, overlap, notice, outcome) and the
iCalendar invite. Tested in tests/unit/test_notify_rules.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from icalendar import Calendar, Event, vCalAddress, vText

from shared.catalog.timezones import zone_place

from shared.contracts.vocabulary import AppealStatus, DebriefEnding
from services.notify.errors import (
    CallNotStarted,
    InvalidInput,
    InvalidSlot,
    OfferClosed,
    OfferExpired,
    SlotOverlaps,
    TooSoon,
)

class Audience(StrEnum):
    ADDRESS = "address"    # an address without an account yet (registration)
    CITY = "city"          # every staff user of the city, less those who opted out of the kind
    AUDITOR = "auditor"
    OPERATOR = "operator"  # every operator


class Kind(StrEnum):
    """Every kind of mail notify sends: the template's name and what a person opts out of."""

    REGISTRATION_REQUESTED = "registration_requested"
    REGISTRATION_REFUSED = "registration_refused"
    SUBMISSION_RECEIVED = "submission_received"
    CLARIFICATION_REQUESTED = "clarification_requested"
    CLARIFICATION_DUE_SOON = "clarification_due_soon"
    REVIEW_COMPLETED = "review_completed"
    REPORT_READY = "report_ready"
    CERTIFICATION_RESULT = "certification_result"
    DEBRIEF_OFFERED = "debrief_offered"
    DEBRIEF_BOOKED = "debrief_booked"
    DEBRIEF_RESCHEDULED = "debrief_rescheduled"
    DEBRIEF_REMINDER = "debrief_reminder"
    DEBRIEF_CANCELLED = "debrief_cancelled"
    APPEAL_FILED = "appeal_filed"
    APPEAL_DECIDED = "appeal_decided"
    CASE_ASSIGNED = "case_assigned"
    REVIEW_DUE_SOON = "review_due_soon"
    CLARIFICATION_ANSWERED = "clarification_answered"
    SIGNOFF_RETURNED = "signoff_returned"
    AUDITOR_DEBRIEF_BOOKED = "auditor_debrief_booked"
    AUDITOR_DEBRIEF_RESCHEDULED = "auditor_debrief_rescheduled"
    AUDITOR_DEBRIEF_CANCELLED = "auditor_debrief_cancelled"
    REVIEW_OVERDUE = "review_overdue"
    APPEAL_DUE_SOON = "appeal_due_soon"
    APPEAL_OVERDUE = "appeal_overdue"
    MESSAGE_PARKED = "message_parked"
    DELIVERY_FAILED = "delivery_failed"


AUDIENCE: dict[Kind, Audience] = {
    Kind.REGISTRATION_REQUESTED: Audience.ADDRESS, Kind.REGISTRATION_REFUSED: Audience.ADDRESS,
    **{k: Audience.CITY for k in (
        Kind.SUBMISSION_RECEIVED, Kind.CLARIFICATION_REQUESTED, Kind.CLARIFICATION_DUE_SOON,
        Kind.REVIEW_COMPLETED, Kind.REPORT_READY, Kind.CERTIFICATION_RESULT, Kind.DEBRIEF_OFFERED,
        Kind.DEBRIEF_BOOKED, Kind.DEBRIEF_RESCHEDULED, Kind.DEBRIEF_REMINDER, Kind.DEBRIEF_CANCELLED,
        Kind.APPEAL_FILED, Kind.APPEAL_DECIDED)},
    **{k: Audience.AUDITOR for k in (
        Kind.CASE_ASSIGNED, Kind.REVIEW_DUE_SOON, Kind.APPEAL_DUE_SOON, Kind.CLARIFICATION_ANSWERED,
        Kind.SIGNOFF_RETURNED,
        Kind.AUDITOR_DEBRIEF_BOOKED, Kind.AUDITOR_DEBRIEF_RESCHEDULED, Kind.AUDITOR_DEBRIEF_CANCELLED)},
    **{k: Audience.OPERATOR for k in (Kind.REVIEW_OVERDUE, Kind.APPEAL_OVERDUE, Kind.MESSAGE_PARKED,
                                      Kind.DELIVERY_FAILED)},
}


def appeal_reminder_to_operators(status: str, auditor_ids: Iterable[str]) -> bool:
    """An appeal due soon reminds the auditors deciding it: those who decided a criterion of
    it while it is open (appeals are not claimed). Nobody holds it when none has yet, or
    when every criterion is decided and it waits for a second auditor's sign-off (which
    its deciders cannot give): operators are reminded then, to find an independent one."""
    return status != AppealStatus.OPEN or not any(auditor_ids)

# What a city's staff may opt out of (each person for themselves): every city kind.
OPTIONAL_KINDS: tuple[Kind, ...] = tuple(k for k, a in AUDIENCE.items() if a == Audience.CITY)


class MailState(StrEnum):
    PENDING = "pending"  # recorded, waiting to be sent (or retried after a failure)
    SENT = "sent"        # the relay accepted it
    PARKED = "parked"    # failed `max_attempts` times: an operator looks, and may retry it


class OfferState(StrEnum):
    """A debrief offer: open -> booked (-> open again when the call is cancelled) ->
    completed, or declined by the city, or expired unbooked."""

    OPEN = "open"
    BOOKED = "booked"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"


CLOSED_OFFERS = frozenset({OfferState.COMPLETED, OfferState.DECLINED, OfferState.EXPIRED})


class SlotState(StrEnum):
    """An auditor's free time: open -> booked (-> open again) or withdrawn."""

    OPEN = "open"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"


class BookingState(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class BookingChange(StrEnum):
    """What happened to a call, as the city and the auditor are told (mail and invite)."""

    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


# What the auditor of a call records once it started (declined and expired end an offer
# without a call).
CallOutcome = Literal[DebriefEnding.HELD, DebriefEnding.NO_SHOW]


# --- recipients and the sent-once ledger --------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str = "en"
    name: str = ""
    user_id: str | None = None
    timezone: str = "UTC"


def city_recipients(staff: Iterable[Recipient], opted_out: set[tuple[str, str]], kind: Kind) -> list[Recipient]:
    """Every staff user of a city, less those who opted out of this kind; one per address."""
    out: dict[str, Recipient] = {}
    for person in staff:
        if person.user_id and (person.user_id, kind.value) in opted_out and kind in OPTIONAL_KINDS:
            continue
        out.setdefault(person.email.lower(), person)
    return list(out.values())


def message_id(cause: str, recipient: str) -> str:
    """The same cause and recipient always give the same Message-ID: a copy sent again after
    a crash (between the relay's yes and our mark) is recognised by mail systems."""
    digest = hashlib.sha256(f"{cause}:{recipient.lower()}".encode()).hexdigest()[:32]
    return f"<{digest}@wwc.notify>"


def retry_delay(attempts: int, *, base: float, most: float) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling, capped."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), most))


def after_failure(attempts: int, max_attempts: int) -> MailState:
    return MailState.PARKED if attempts >= max_attempts else MailState.PENDING


# --- time zones ---------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone", reason="unknown time zone") from exc


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """A wall-clock time in a zone as a UTC instant; a time the clocks skip (a DST gap) is
    refused rather than silently moved."""
    local = datetime.combine(day, at, tzinfo=zone(tz))
    instant = local.astimezone(UTC)
    if instant.astimezone(zone(tz)).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise InvalidInput(f"{day} {at} does not exist in {tz}", field="time", reason="time does not exist")
    return instant


def when(instant: datetime, tz: str, lang: str) -> str:
    """A call's moment for a person: their language, their zone, the zone named."""
    local = instant.astimezone(zone(tz))
    return f"{format_date(local, 'full', locale=lang)}, {format_time(local, 'short', locale=lang)} " \
           f"({zone_place(tz, lang)})"


def day_of(instant: datetime, tz: str, lang: str) -> str:
    return format_date(instant.astimezone(zone(tz)), "full", locale=lang)


# --- debrief offers, slots and bookings ------------------------------------------------------

SLOT_MINUTES = (15, 240)


def offer_expires(offered_at: datetime, window_days: float) -> datetime:
    return offered_at + timedelta(days=window_days)


def check_offer_open(state: str, expires_at: datetime | None, now: datetime) -> None:
    """A city books, moves or declines only while its offer is open and unexpired."""
    if state not in (OfferState.OPEN, OfferState.BOOKED):
        raise OfferClosed(f"the debrief offer is {state}", state=state)
    if expires_at is not None and now >= expires_at and state == OfferState.OPEN:
        raise OfferExpired("the debrief offer has expired", expires_at=expires_at.isoformat())


def check_slot(starts_at: datetime, ends_at: datetime, call_url: str, now: datetime) -> None:
    minutes = (ends_at - starts_at).total_seconds() / 60
    if not SLOT_MINUTES[0] <= minutes <= SLOT_MINUTES[1]:
        raise InvalidSlot(f"a call lasts {SLOT_MINUTES[0]} to {SLOT_MINUTES[1]} minutes",
                          field="duration_minutes", reason="out of range")
    if starts_at <= now:
        raise TooSoon("the slot starts in the past", field="starts_at", reason="in the past")
    check_call_url(call_url)


def check_call_url(call_url: str) -> None:
    """A call link is one https URL with a host: no whitespace or control character (a CR/LF
    would otherwise reach the invite and the mail), at most 500 characters."""
    if (len(call_url) > 500 or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in call_url)):
        raise InvalidInput("the call link must be one https URL", field="call_url",
                           reason="not an https URL (spaces or control characters)")
    try:
        url = urlparse(call_url)
        host = url.hostname
    except ValueError:
        host = None
    if url.scheme != "https" or not host:
        raise InvalidInput("the call link must be an https URL", field="call_url", reason="not an https URL")


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: a call ending at 10:00 and one starting at 10:00 do not overlap."""
    return a_start < b_end and b_start < a_end


def check_no_overlap(starts_at: datetime, ends_at: datetime, existing: Iterable[tuple[datetime, datetime]]) -> None:
    for start, end in existing:
        if overlaps(starts_at, ends_at, start, end):
            raise SlotOverlaps("the auditor has another slot at that time", other=start.isoformat())


def check_notice(starts_at: datetime, now: datetime, min_notice: timedelta) -> None:
    """A call is booked or moved with at least this much notice (reminders need it too)."""
    if starts_at - now < min_notice:
        raise TooSoon("the call starts too soon to book", minutes=int(min_notice.total_seconds() // 60))


def check_outcome(outcome: str, starts_at: datetime, now: datetime) -> None:
    if outcome not in (DebriefEnding.HELD, DebriefEnding.NO_SHOW):
        raise InvalidInput("outcome is held or no_show", field="outcome", reason="not held or no_show")
    if now < starts_at:
        raise CallNotStarted("the outcome is recorded once the call has started")


def debrief_cause(booking_id: str, sequence: int, what: str) -> str:
    return f"booking:{booking_id}:{sequence}:{what}"


# --- the iCalendar invite ---------------------------------------------------------------------


@dataclass(frozen=True)
class Invite:
    uid: str
    sequence: int
    method: str  # REQUEST | CANCEL: chosen by the change (cancelled or not), never by text
    starts_at: datetime
    ends_at: datetime
    timezone: str  # the reader's zone: DTSTART/DTEND carry it (the same instant for everyone)
    summary: str
    description: str
    call_url: str
    organizer: tuple[str, str]  # (email, name)
    attendees: tuple[tuple[str, str], ...]


def invite_uid(booking_id: str) -> str:
    """Stable for the life of a booking: calendars update the same event when it moves."""
    return f"debrief-{booking_id}@wwc.notify"


INVITE_METHODS = ("REQUEST", "CANCEL")


def invite_method(ics: str | None) -> str:
    """The METHOD property of an invite, read as iCalendar data (never by searching its text:
    a city named "METHOD:CANCEL" is a summary, not a method)."""
    if not ics:
        return "REQUEST"
    try:
        method = str(Calendar.from_ical(ics).get("method", "REQUEST")).upper()
    except ValueError:
        return "REQUEST"
    return method if method in INVITE_METHODS else "REQUEST"


def build_invite(invite: Invite, *, stamp: datetime) -> str:
    if invite.method not in INVITE_METHODS:
        raise ValueError(f"an invite's method is one of {INVITE_METHODS}")
    # Slots are refused with such a link now; one stored before must not fail every booking.
    invite = replace(invite, call_url="".join(ch for ch in invite.call_url if not (ch.isspace() or ord(ch) < 32)))
    tz = zone(invite.timezone)
    cal = Calendar()
    cal.add("prodid", "-//What Works Cities Certification//notify//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", invite.method)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", invite.starts_at.astimezone(tz))
    event.add("dtend", invite.ends_at.astimezone(tz))
    event.add("summary", invite.summary)
    event.add("description", f"{invite.description}\n\n{invite.call_url}".strip())
    event.add("location", invite.call_url)
    event.add("url", invite.call_url)
    event.add("status", "CANCELLED" if invite.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{invite.organizer[0]}")
    organizer.params["cn"] = vText(invite.organizer[1] or invite.organizer[0])
    event.add("organizer", organizer)
    for email, name in invite.attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name or email)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION" if invite.method == "REQUEST" else "DECLINED")
        event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical().decode()

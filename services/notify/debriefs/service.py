"""Debrief scheduling: offers (from the workflow), auditors' slots, a city's booking of one
(moved, cancelled or declined by either side), reminders, the outcome. Each change is one
transaction with its event, its mail (with an iCalendar invite) and what the workflow is
told (certification.gateway: delivered after commit, retried until Temporal answers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from certification import gateway
from certification.contract import DebriefBooking, DebriefCancellation, DebriefResult, Signal
from services.notify import directory, domain, mails
from services.notify.config import NotifyOptions
from services.notify.domain import (
    CLOSED_OFFERS,
    BookingChange,
    BookingState,
    CallOutcome,
    Invite,
    Kind,
    OfferState,
    Recipient,
    SlotState,
)
from services.notify.errors import (
    AlreadyBooked,
    Forbidden,
    NotBooked,
    NotFound,
    OfferClosed,
    SlotBooked,
    SlotTaken,
)
from services.notify.models import Booking, DebriefOffer, Person, Slot
from certification.activities import DebriefClosed, DebriefReminder, DebriefRequest
from shared.contracts.events import (
    DebriefBooked,
    DebriefCancelled,
    DebriefCompleted,
    DebriefOffered,
    DebriefRescheduled,
    Subject,
    make_event,
)
from shared.contracts.vocabulary import DebriefEnding
from shared.infra.auth import Principal, Role
from shared.infra.orm import new_id, utcnow
from shared.infra.outbox import add_event


@dataclass(frozen=True)
class DebriefConfig:
    options: NotifyOptions
    public_url: str       # notify's: the booking and slot pages
    organizer: str        # the invite's organizer (the platform's sender address)

    def booking_url(self, submission_id: str) -> str:
        return f"{self.public_url}/booking/{submission_id}"

    def slots_url(self, submission_id: str | None = None) -> str:
        return f"{self.public_url}/slots/debriefs/{submission_id}" if submission_id else f"{self.public_url}/slots/"


# --- API shapes -------------------------------------------------------------------------------


class SlotCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "starts_at": "2026-05-05T10:00:00", "timezone": "America/New_York", "duration_minutes": 45,
        "call_url": "https://meet.example.org/wwc-debrief"}]})

    # A wall-clock time in `timezone` (an offset, if given, must agree with the zone's).
    starts_at: datetime
    timezone: str = Field(min_length=1, max_length=64)
    duration_minutes: int = Field(ge=1, le=24 * 60)
    call_url: str = Field(min_length=1, max_length=500)


class SlotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    auditor_id: str
    auditor_name: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: str
    call_url: str | None = None  # only for its auditor, operators and the city that booked it
    state: str


class BookingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slot_id: str
    auditor_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    call_url: str
    sequence: int
    state: str


class DebriefRead(BaseModel):
    submission_id: str
    offer_id: str
    city_id: str
    city_name: str
    state: OfferState
    expires_at: AwareDatetime | None
    booking_url: str
    booking: BookingRead | None = None
    outcome: DebriefEnding | None = None
    notes: str | None = None


class BookingCreate(BaseModel):
    slot_id: str = Field(min_length=1, max_length=36)


class OutcomeCreate(BaseModel):
    outcome: CallOutcome
    notes: str = Field(default="", max_length=20000)


# --- offers (from the workflow) --------------------------------------------------------------


async def offer(session: AsyncSession, cfg: DebriefConfig, req: DebriefRequest) -> tuple[DebriefOffer, bool]:
    """The submission's offer (made once; a retried activity finds it) and its mail."""
    found = await session.scalar(select(DebriefOffer).where(DebriefOffer.submission_id == req.submission_id))
    if found is None:
        now = utcnow()
        found = DebriefOffer(id=new_id(), submission_id=req.submission_id, city_id=req.city_id,
                             email=req.contact_email, city_name=req.city_name, tier=req.tier,
                             report_url=req.report_url, created_at=now,
                             expires_at=domain.offer_expires(now, cfg.options.offer_window_days), state=OfferState.OPEN)
        session.add(found)
        await session.flush()
        await add_event(session, make_event(Subject.DEBRIEF_OFFERED, DebriefOffered(
            submission_id=req.submission_id, offer_id=found.id, email=req.contact_email, city_id=req.city_id,
            expires_at=found.expires_at, booking_url=cfg.booking_url(req.submission_id)),
            submission_id=req.submission_id, city_id=req.city_id, correlation_id=req.correlation_id))
    staff = await directory.city_staff(session, req.city_id, Kind.DEBRIEF_OFFERED, fallback=req.contact_email)
    sent = await mails.queue(session, cause=f"debrief-offer:{found.id}", kind=Kind.DEBRIEF_OFFERED,
                             recipients=staff, city_id=req.city_id, submission_id=req.submission_id,
                             context={"city_name": req.city_name, "tier": req.tier, "expires_at": found.expires_at,
                                      "booking_url": cfg.booking_url(req.submission_id),
                                      "report_url": req.report_url, **_prefs(cfg)})
    return found, sent > 0


async def close(session: AsyncSession, req: DebriefClosed) -> None:
    """Nobody booked before the offer expired (the workflow's timer)."""
    found = await _offer_by_id(session, req.offer_id)
    result = await session.execute(update(DebriefOffer).where(DebriefOffer.id == found.id,
                                                              DebriefOffer.state == OfferState.OPEN)
                                   .values(state=req.outcome, outcome=req.outcome, closed_at=utcnow())
                                   .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        await add_event(session, make_event(Subject.DEBRIEF_COMPLETED, DebriefCompleted(
            submission_id=found.submission_id, offer_id=found.id, outcome=req.outcome),
            submission_id=found.submission_id, city_id=found.city_id, correlation_id=req.correlation_id))


async def remind(session: AsyncSession, cfg: DebriefConfig, req: DebriefReminder) -> int:
    """A day or an hour before the call; nothing for a call that moved or was cancelled
    since the workflow armed the timer (it re-arms for the new time)."""
    booking = await session.get(Booking, req.booking_id)
    if booking is None or booking.state != BookingState.BOOKED or booking.starts_at != req.starts_at:
        return 0
    found = await _offer_by_id(session, booking.offer_id)
    staff = await directory.city_staff(session, found.city_id, Kind.DEBRIEF_REMINDER, fallback=found.email)
    slot = await session.get(Slot, booking.slot_id)
    return await mails.queue(
        session, cause=f"debrief-reminder:{booking.id}:{req.starts_at.isoformat()}:{req.kind}",
        kind=Kind.DEBRIEF_REMINDER, recipients=staff, city_id=found.city_id, submission_id=found.submission_id,
        context={"city_name": found.city_name, "lead": req.kind, "starts_at": booking.starts_at,
                 "call_url": booking.call_url, "auditor_name": slot.auditor_name if slot else "",
                 "booking_url": cfg.booking_url(found.submission_id), **_prefs(cfg)})


# --- slots ------------------------------------------------------------------------------------


def _aware_start(data: SlotCreate) -> datetime:
    tz = domain.zone(data.timezone)
    if data.starts_at.tzinfo is None:
        return domain.local_to_utc(data.starts_at.date(), data.starts_at.time(), data.timezone)
    local = data.starts_at.astimezone(tz)
    return domain.local_to_utc(local.date(), local.time().replace(tzinfo=None), data.timezone)


async def publish_slot(session: AsyncSession, principal: Principal, data: SlotCreate) -> Slot:
    starts_at = _aware_start(data)
    ends_at = starts_at + timedelta(minutes=data.duration_minutes)
    now = utcnow()
    domain.check_slot(starts_at, ends_at, data.call_url, now)
    mine = (await session.execute(select(Slot.starts_at, Slot.ends_at).where(
        Slot.auditor_id == principal.sub, Slot.state != SlotState.WITHDRAWN, Slot.ends_at > now))).all()
    domain.check_no_overlap(starts_at, ends_at, [(r.starts_at, r.ends_at) for r in mine])
    me = await session.get(Person, principal.sub)
    if me is not None and not me.timezone:
        # Until the person chooses a zone in their settings (user.updated), the slot page
        # offers the zone of their first slot; one slot elsewhere never changes their own.
        me.timezone = data.timezone
    slot = Slot(id=new_id(), auditor_id=principal.sub, auditor_name=principal.name or (me.name if me else ""),
                starts_at=starts_at, ends_at=ends_at, timezone=data.timezone, call_url=data.call_url, state=SlotState.OPEN)
    session.add(slot)
    await session.flush()
    return slot


async def withdraw_slot(session: AsyncSession, principal: Principal, slot_id: str) -> Slot:
    slot = await session.get(Slot, slot_id)
    if slot is None or (principal.role == Role.AUDITOR and slot.auditor_id != principal.sub):
        raise NotFound(f"no slot {slot_id}")
    result = await session.execute(update(Slot).where(Slot.id == slot_id, Slot.state == SlotState.OPEN)
                                   .values(state=SlotState.WITHDRAWN).execution_options(synchronize_session=False))
    if result.rowcount != 1 and slot.state != SlotState.WITHDRAWN:
        raise SlotBooked("the slot is booked: move or cancel the call first")
    await session.refresh(slot)
    return slot


async def slots(session: AsyncSession, principal: Principal, *, mine: bool = False,
                include_past: bool = False) -> list[Slot]:
    """A city sees the open slots it could book; an auditor and an operator see slots (an
    auditor: only their own with `mine`)."""
    now = utcnow()
    q = select(Slot).order_by(Slot.starts_at)
    if principal.role == Role.CITY:
        q = q.where(Slot.state == SlotState.OPEN, Slot.starts_at > now)
    else:
        if mine:
            q = q.where(Slot.auditor_id == principal.sub)
        q = q.where(Slot.state != SlotState.WITHDRAWN)
        if not include_past:
            q = q.where(Slot.ends_at > now)
    return list((await session.scalars(q)).all())


async def bookable_slots(session: AsyncSession, cfg: DebriefConfig) -> list[Slot]:
    earliest = utcnow() + timedelta(minutes=cfg.options.min_notice_minutes)
    return list((await session.scalars(select(Slot).where(Slot.state == SlotState.OPEN, Slot.starts_at >= earliest)
                                       .order_by(Slot.starts_at))).all())


def slot_read(slot: Slot, principal: Principal) -> SlotRead:
    read = SlotRead.model_validate(slot)
    if principal.role == Role.CITY:
        read.call_url = None  # the link goes with the booking
    return read


# --- one submission's debrief -----------------------------------------------------------------


async def _offer_by_id(session: AsyncSession, offer_id: str) -> DebriefOffer:
    found = await session.get(DebriefOffer, offer_id)
    if found is None:
        raise NotFound(f"no debrief offer {offer_id}")
    return found


async def visible_offer(session: AsyncSession, principal: Principal, submission_id: str) -> DebriefOffer:
    """The submission's offer if the caller may see it: its city's staff, any auditor or
    operator. Another city's (and a missing one) is NotFound alike."""
    found = await session.scalar(select(DebriefOffer).where(DebriefOffer.submission_id == submission_id))
    if found is None or not principal.can_see_city(found.city_id):
        raise NotFound(f"no debrief offer for submission {submission_id}")
    return found


async def current_booking(session: AsyncSession, found: DebriefOffer) -> Booking | None:
    return await session.get(Booking, found.booking_id) if found.booking_id else None


async def read(session: AsyncSession, cfg: DebriefConfig, found: DebriefOffer) -> DebriefRead:
    booking = await current_booking(session, found)
    return DebriefRead(submission_id=found.submission_id, offer_id=found.id, city_id=found.city_id,
                       city_name=found.city_name, state=found.state, expires_at=found.expires_at,
                       booking_url=cfg.booking_url(found.submission_id),
                       booking=BookingRead.model_validate(booking) if booking else None,
                       outcome=found.outcome, notes=found.notes)


def _may_change(principal: Principal, found: DebriefOffer, booking: Booking | None) -> None:
    """The city's staff, or the auditor whose call it is."""
    if principal.role == Role.CITY:
        return  # visible_offer has checked it is their city
    if principal.role == Role.AUDITOR and booking is not None and booking.auditor_id == principal.sub:
        return
    raise Forbidden("only the city or the auditor of the call may change it")


async def _claim_slot(session: AsyncSession, slot_id: str, booking_id: str, cfg: DebriefConfig) -> Slot:
    """The one conditional UPDATE that decides a race for a slot: exactly one wins."""
    slot = await session.get(Slot, slot_id)
    if slot is None or slot.state == SlotState.WITHDRAWN:
        raise SlotTaken("the slot is no longer available", field="slot_id", reason="not available")
    domain.check_notice(slot.starts_at, utcnow(), timedelta(minutes=cfg.options.min_notice_minutes))
    result = await session.execute(update(Slot).where(Slot.id == slot_id, Slot.state == SlotState.OPEN)
                                   .values(state=SlotState.BOOKED, booking_id=booking_id)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise SlotTaken("someone booked this slot first", field="slot_id", reason="taken")
    await session.refresh(slot)
    return slot


async def _release_slot(session: AsyncSession, slot_id: str, *, withdraw: bool = False) -> None:
    await session.execute(update(Slot).where(Slot.id == slot_id, Slot.state == SlotState.BOOKED)
                          .values(state=SlotState.WITHDRAWN if withdraw else SlotState.OPEN, booking_id=None)
                          .execution_options(synchronize_session=False))


async def book(session: AsyncSession, cfg: DebriefConfig, principal: Principal, submission_id: str,
               slot_id: str) -> Booking:
    found = await visible_offer(session, principal, submission_id)
    if principal.role != Role.CITY:
        raise Forbidden("the city books its call")
    domain.check_offer_open(found.state, found.expires_at, utcnow())
    if found.state == OfferState.BOOKED:
        raise AlreadyBooked("a call is booked already: move or cancel it")
    booking_id = new_id()
    # The offer first: two staff members of one city cannot both book.
    result = await session.execute(update(DebriefOffer).where(DebriefOffer.id == found.id,
                                                              DebriefOffer.state == OfferState.OPEN)
                                   .values(state=OfferState.BOOKED, booking_id=booking_id)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise AlreadyBooked("a call was booked meanwhile")
    slot = await _claim_slot(session, slot_id, booking_id, cfg)
    now = utcnow()
    booking = Booking(id=booking_id, offer_id=found.id, submission_id=submission_id, city_id=found.city_id,
                      slot_id=slot.id, auditor_id=slot.auditor_id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                      call_url=slot.call_url, sequence=0, state=BookingState.BOOKED, booked_by=principal.sub,
                      changed_by=principal.sub, created_at=now, updated_at=now)
    session.add(booking)
    await session.flush()
    await session.refresh(found)
    await add_event(session, make_event(Subject.DEBRIEF_BOOKED, DebriefBooked(
        **await _booked_fields(session, booking, principal.name or "")),
                                        submission_id=submission_id, city_id=found.city_id,
                                        correlation_id=booking.id))
    await _tell_booked(session, booking)
    await _mail_change(session, cfg, found, booking, slot, BookingChange.BOOKED, by=principal)
    return booking


async def reschedule(session: AsyncSession, cfg: DebriefConfig, principal: Principal, submission_id: str,
                     slot_id: str) -> Booking:
    found = await visible_offer(session, principal, submission_id)
    booking = await current_booking(session, found)
    _may_change(principal, found, booking)
    if found.state != OfferState.BOOKED or booking is None or booking.state != BookingState.BOOKED:
        domain.check_offer_open(found.state, found.expires_at, utcnow())
        raise NotBooked("no call is booked: book one")
    if slot_id == booking.slot_id:
        return booking
    previous = booking.starts_at
    slot = await _claim_slot(session, slot_id, booking.id, cfg)
    if principal.role == Role.AUDITOR and slot.auditor_id != principal.sub:
        raise Forbidden("an auditor moves a call to one of their own slots")
    await _release_slot(session, booking.slot_id)
    result = await session.execute(update(Booking).where(Booking.id == booking.id, Booking.state == BookingState.BOOKED,
                                                          Booking.sequence == booking.sequence)
                                   .values(slot_id=slot.id, auditor_id=slot.auditor_id, starts_at=slot.starts_at,
                                           ends_at=slot.ends_at, call_url=slot.call_url,
                                           sequence=booking.sequence + 1, changed_by=principal.sub,
                                           updated_at=utcnow())
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise NotBooked("the call changed meanwhile")
    await session.refresh(booking)
    await add_event(session, make_event(Subject.DEBRIEF_RESCHEDULED, DebriefRescheduled(
        **await _booked_fields(session, booking), previous_starts_at=previous, by=principal.role.value,
        by_name=principal.name or ""),
        submission_id=submission_id, city_id=found.city_id, correlation_id=booking.id))
    await _tell_booked(session, booking)
    await _mail_change(session, cfg, found, booking, slot, BookingChange.RESCHEDULED, by=principal, previous=previous)
    return booking


async def cancel(session: AsyncSession, cfg: DebriefConfig, principal: Principal, submission_id: str, *,
                 reason: str = "") -> Booking:
    """Either side cancels; the city may book another time within the offer window. A slot
    the city gave up is open again; one whose auditor cancelled is withdrawn."""
    found = await visible_offer(session, principal, submission_id)
    booking = await current_booking(session, found)
    _may_change(principal, found, booking)
    if found.state != OfferState.BOOKED or booking is None:
        raise NotBooked("no call is booked")
    return await _cancel(session, cfg, found, booking, principal, reason=reason, reopen=OfferState.OPEN)


async def _cancel(session: AsyncSession, cfg: DebriefConfig, found: DebriefOffer, booking: Booking,
                  principal: Principal, *, reason: str, reopen: OfferState) -> Booking:
    result = await session.execute(update(Booking).where(Booking.id == booking.id, Booking.state == BookingState.BOOKED)
                                   .values(state=BookingState.CANCELLED, sequence=booking.sequence + 1,
                                           changed_by=principal.sub, updated_at=utcnow())
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise NotBooked("the call changed meanwhile")
    await _release_slot(session, booking.slot_id, withdraw=principal.role == Role.AUDITOR)
    await session.execute(update(DebriefOffer).where(DebriefOffer.id == found.id)
                          .values(state=reopen, booking_id=None).execution_options(synchronize_session=False))
    await session.refresh(booking)
    await session.refresh(found)
    await add_event(session, make_event(Subject.DEBRIEF_CANCELLED, DebriefCancelled(
        submission_id=found.submission_id, offer_id=found.id, booking_id=booking.id, starts_at=booking.starts_at,
        by=principal.role.value, by_name=principal.name or "", reason=reason[:500]),
        submission_id=found.submission_id, city_id=found.city_id, correlation_id=booking.id))
    await gateway.signal(session, found.submission_id, Signal.DEBRIEF_CANCELLED,
                         DebriefCancellation(booking_id=booking.id))
    slot = await session.get(Slot, booking.slot_id)
    assert slot is not None
    await _mail_change(session, cfg, found, booking, slot, BookingChange.CANCELLED, by=principal,
                       still_open=reason != DebriefEnding.DECLINED)
    return booking


async def decline(session: AsyncSession, cfg: DebriefConfig, principal: Principal,
                  submission_id: str) -> DebriefOffer:
    """The city does not want a call (a booked one is cancelled first)."""
    found = await visible_offer(session, principal, submission_id)
    if principal.role != Role.CITY:
        raise Forbidden("the city declines its call")
    domain.check_offer_open(found.state, found.expires_at, utcnow())
    booking = await current_booking(session, found)
    if found.state == OfferState.BOOKED and booking is not None:
        await _cancel(session, cfg, found, booking, principal, reason=DebriefEnding.DECLINED, reopen=OfferState.OPEN)
    return await _complete(session, found, DebriefEnding.DECLINED, "", expected=OfferState.OPEN)


async def record_outcome(session: AsyncSession, principal: Principal, submission_id: str,
                         data: OutcomeCreate) -> DebriefOffer:
    """The auditor of the call records how it went: the debrief stage is complete."""
    found = await visible_offer(session, principal, submission_id)
    booking = await current_booking(session, found)
    if principal.role != Role.AUDITOR or booking is None or booking.auditor_id != principal.sub:
        if found.state in CLOSED_OFFERS:
            raise OfferClosed(f"the debrief is {found.state}", state=found.state)
        if booking is None:
            raise NotBooked("no call is booked")
        raise Forbidden("the auditor of the call records its outcome")
    domain.check_outcome(data.outcome, booking.starts_at, utcnow())
    await session.execute(update(Booking).where(Booking.id == booking.id, Booking.state == BookingState.BOOKED)
                          .values(state=BookingState.COMPLETED, updated_at=utcnow())
                          .execution_options(synchronize_session=False))
    return await _complete(session, found, data.outcome, data.notes, expected=OfferState.BOOKED)


async def _complete(session: AsyncSession, found: DebriefOffer, outcome: DebriefEnding, notes: str, *,
                    expected: OfferState) -> DebriefOffer:
    result = await session.execute(update(DebriefOffer).where(DebriefOffer.id == found.id,
                                                              DebriefOffer.state == expected)
                                   .values(state=OfferState.DECLINED if outcome == DebriefEnding.DECLINED else OfferState.COMPLETED,
                                           outcome=outcome, notes=notes, closed_at=utcnow())
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        await session.refresh(found)
        raise OfferClosed(f"the debrief is {found.state}", state=found.state)
    await session.refresh(found)
    await add_event(session, make_event(Subject.DEBRIEF_COMPLETED, DebriefCompleted(
        submission_id=found.submission_id, offer_id=found.id, outcome=outcome, notes=notes),
        submission_id=found.submission_id, city_id=found.city_id, correlation_id=found.id))
    await gateway.signal(session, found.submission_id, Signal.DEBRIEF_COMPLETED,
                         DebriefResult(outcome=outcome, notes=notes))
    return found


async def _tell_booked(session: AsyncSession, booking: Booking) -> None:
    """The workflow waits for the call as booked now (a higher sequence: it moved)."""
    await gateway.signal(session, booking.submission_id, Signal.DEBRIEF_BOOKED, DebriefBooking(
        booking_id=booking.id, starts_at=booking.starts_at, sequence=booking.sequence))


async def bookings_of(session: AsyncSession, principal: Principal, *, include_past: bool = False) -> list[Booking]:
    """An auditor's booked calls (an operator: everyone's)."""
    q = select(Booking).where(Booking.state == BookingState.BOOKED).order_by(Booking.starts_at)
    if principal.role == Role.AUDITOR:
        q = q.where(Booking.auditor_id == principal.sub)
    if not include_past:
        q = q.where(Booking.ends_at > utcnow() - timedelta(days=7))
    return list((await session.scalars(q)).all())


# --- mail of a booking's changes --------------------------------------------------------------


async def _booked_fields(session: AsyncSession, b: Booking, booker_name: str = "") -> dict:
    """The event's fields; the booker named as notify knows them, else by their token's name."""
    booker = await session.get(Person, b.booked_by) if b.booked_by else None
    slot = await session.get(Slot, b.slot_id)
    return {"submission_id": b.submission_id, "offer_id": b.offer_id, "booking_id": b.id, "slot_id": b.slot_id,
            "auditor_id": b.auditor_id, "starts_at": b.starts_at, "ends_at": b.ends_at, "call_url": b.call_url,
            "sequence": b.sequence, "booked_by_name": booker.name if booker and booker.name else booker_name,
            "timezone": slot.timezone if slot else ""}


def _prefs(cfg: DebriefConfig) -> dict:
    return {"preferences_url": f"{cfg.public_url}/booking/preferences"}


CITY_KIND = {BookingChange.BOOKED: Kind.DEBRIEF_BOOKED, BookingChange.RESCHEDULED: Kind.DEBRIEF_RESCHEDULED,
             BookingChange.CANCELLED: Kind.DEBRIEF_CANCELLED}
AUDITOR_KIND = {BookingChange.BOOKED: Kind.AUDITOR_DEBRIEF_BOOKED, BookingChange.RESCHEDULED: Kind.AUDITOR_DEBRIEF_RESCHEDULED,
                BookingChange.CANCELLED: Kind.AUDITOR_DEBRIEF_CANCELLED}


async def _mail_change(session: AsyncSession, cfg: DebriefConfig, found: DebriefOffer, booking: Booking, slot: Slot,
                       what: BookingChange, *, by: Principal, previous: datetime | None = None,
                       still_open: bool = True) -> None:
    """The city's staff and the auditor each get the news and the invite (REQUEST with the
    booking's SEQUENCE, or CANCEL), the call's times in their own zone."""
    staff = await directory.city_staff(session, found.city_id, CITY_KIND[what], fallback=found.email)
    everyone = await directory.city_staff(session, found.city_id, Kind.SUBMISSION_RECEIVED, fallback=found.email)
    auditor = await directory.person(session, booking.auditor_id)
    if auditor is None:
        auditor = Recipient(email="", name=slot.auditor_name, user_id=booking.auditor_id)
    auditor = Recipient(email=auditor.email, language=auditor.language, name=auditor.name or slot.auditor_name,
                        user_id=auditor.user_id, timezone=slot.timezone)
    method = "CANCEL" if what == BookingChange.CANCELLED else "REQUEST"
    attendees = tuple((p.email, p.name) for p in everyone) + ((auditor.email, auditor.name),) * bool(auditor.email)

    def ics(person: Recipient) -> str:
        return domain.build_invite(Invite(
            uid=domain.invite_uid(booking.id), sequence=booking.sequence, method=method,
            starts_at=booking.starts_at, ends_at=booking.ends_at, timezone=person.timezone,
            summary=f"What Works Cities debrief: {found.city_name}".strip(),
            description=f"Certification debrief call for {found.city_name}", call_url=booking.call_url,
            organizer=(cfg.organizer, "What Works Cities Certification"), attendees=attendees), stamp=utcnow())

    context = {"city_name": found.city_name, "starts_at": booking.starts_at, "ends_at": booking.ends_at,
               "previous_starts_at": previous, "call_url": booking.call_url, "auditor_name": auditor.name,
               "by": by.role.value, "booking_url": cfg.booking_url(found.submission_id),
               "slots_url": cfg.slots_url(found.submission_id), "offer_open": found.state == OfferState.OPEN and still_open,
               "expires_at": found.expires_at, **_prefs(cfg)}
    cause = domain.debrief_cause(booking.id, booking.sequence, what)
    await mails.queue(session, cause=cause, kind=CITY_KIND[what], recipients=staff, context=context,
                      city_id=found.city_id, submission_id=found.submission_id, ics=ics)
    if auditor.email:
        await mails.queue(session, cause=cause, kind=AUDITOR_KIND[what], recipients=[auditor], context=context,
                          city_id=found.city_id, submission_id=found.submission_id, ics=ics)

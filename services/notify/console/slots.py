"""The auditor's pages: publish slots (a date and time in a chosen zone, a length, the
call's link), withdraw an open one, and for each booked call: move it to another of one's
slots, cancel it, or record its outcome and notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import directory

from services.notify.debriefs import service as debriefs
from services.notify.console.common import SLOTS, AuditorPage, after_change, config
from services.notify.debriefs.service import BookingCreate, OutcomeCreate, SlotCreate
from services.notify.domain import when
from services.notify.errors import (
    CallNotStarted,
    InvalidInput,
    InvalidSlot,
    NotBooked,
    OfferClosed,
    SlotBooked,
    SlotOverlaps,
    SlotTaken,
    TooSoon,
)
from services.notify.models import Booking, DebriefOffer, Person, Slot
from shared.catalog.timezones import resolve_zone, zone_choices
from shared.infra.orm import utcnow
from shared.infra.settings import service_urls
from shared.web.pages import FieldError, Page, redirect_on

router = SLOTS.router()
DURATIONS = (30, 45, 60, 90)


@dataclass(frozen=True)
class BookedCall:
    """A booked slot as the auditor's list shows it: who booked, and where to read more."""

    submission_id: str
    city: str
    case_url: str     # the case in audit's console
    report_url: str   # the city's report in reporting's console ("" before it is issued)


def case_url(submission_id: str) -> str:
    """The case in audit's console (the same auditor console: shared/web/nav.py)."""
    return f"{service_urls()['audit'].rstrip('/')}/audit/cases/{submission_id}"


async def booked_calls(session: AsyncSession, bookings: list[Booking]) -> dict[str, BookedCall]:
    """By booking id. The city's name is the one notify keeps from intake's city events
    (a renamed city reads as it is now), else the one the offer was made to."""
    offers = {o.id: o for o in (await session.scalars(
        select(DebriefOffer).where(DebriefOffer.id.in_({b.offer_id for b in bookings})))).all()} if bookings else {}
    calls = {}
    for b in bookings:
        offer = offers.get(b.offer_id)
        city = await directory.city(session, b.city_id)
        name = (city.name if city and city.name else "") or (offer.city_name if offer else "")
        calls[b.id] = BookedCall(submission_id=b.submission_id, city=name,
                                 case_url=case_url(b.submission_id),
                                 report_url=(offer.report_url or "") if offer else "")
    return calls


async def render_home(page: Page, *, status_code: int = 200, errors: list[FieldError] | None = None,
                      values: dict | None = None) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        mine = await debriefs.slots(session, page.principal, mine=True)
        me = await session.get(Person, page.principal.sub)
        bookings = await booked_calls(session, await debriefs.bookings_of(session, page.principal))
    # The auditor's own zone (their setting, else the zone of their last slot).
    zone = (values or {}).get("timezone") or (me.timezone if me and me.timezone else "America/New_York")
    return page.render("slots.html", status_code=status_code, title=page.t("slots.title"), nav="debriefs",
                       slots=mine, bookings=bookings, zones=zone_choices(page.lang, current=zone),
                       durations=DURATIONS, errors=errors or [],
                       values={"timezone": zone, "duration": "45", **(values or {})})


@router.get("/")
async def home(page: AuditorPage) -> HTMLResponse:
    return await render_home(page)


FIELD_OF = {"starts_at": "date", "time": "time", "timezone": "timezone", "duration_minutes": "duration",
            "call_url": "call_url"}


@router.post("/")
async def publish(page: AuditorPage) -> Response:
    form = await page.form()
    values = {k: str(form.get(k, "")).strip() for k in ("date", "time", "timezone", "duration", "call_url")}
    errors: list[FieldError] = []
    status = 422
    try:
        day = date.fromisoformat(values["date"])
    except ValueError:
        errors.append(FieldError("date", page.t("slots.errors.date")))
    try:
        at = time.fromisoformat(values["time"])
    except ValueError:
        errors.append(FieldError("time", page.t("slots.errors.time")))
    async with page.runtime.db.sessionmaker() as session:
        me = await session.get(Person, page.principal.sub)
    zone = resolve_zone(values["timezone"], page.lang, current=me.timezone if me else None)
    if zone is None:
        errors.append(FieldError("timezone", page.t("slots.errors.timezone")))
    else:
        values["timezone"] = zone
    if values["duration"] not in {str(d) for d in DURATIONS}:
        errors.append(FieldError("duration", page.t("slots.errors.duration")))
    if not values["call_url"]:
        errors.append(FieldError("call_url", page.t("slots.errors.call_url")))
    if not errors:
        data = SlotCreate(starts_at=datetime.combine(day, at), timezone=values["timezone"],
                          duration_minutes=int(values["duration"]), call_url=values["call_url"][:500])
        try:
            async with page.runtime.db.transaction() as session:
                await debriefs.publish_slot(session, page.principal, data)
        except (InvalidInput, InvalidSlot, TooSoon, SlotOverlaps) as exc:
            field = FIELD_OF.get(exc.field or "", "date")
            if exc.code == "invalid_input" and exc.field == "call_url":
                message = page.t("slots.errors.call_url")
            elif exc.field == "time":
                message = page.t("slots.errors.no_such_time")
            else:
                message = page.problem(exc)
            errors.append(FieldError(field, message))
            status = page.request.app.state.errors[exc.code].status
    if errors:
        return await render_home(page, status_code=status, errors=errors, values=values)
    return page.redirect("/slots/", done="published")


@router.post("/{slot_id}/withdraw")
async def withdraw(slot_id: str, page: AuditorPage) -> Response:
    await page.form()
    with redirect_on(SlotBooked, to="/slots/", done="slot_booked"):
        async with page.runtime.db.transaction() as session:
            await debriefs.withdraw_slot(session, page.principal, slot_id)
    return page.redirect("/slots/", done="withdrawn")


# --- one booked call ----------------------------------------------------------------------


def url(submission_id: str) -> str:
    return f"/slots/debriefs/{submission_id}"


async def render_debrief(page: Page, submission_id: str, *, status_code: int = 200,
                         errors: list[FieldError] | None = None, values: dict | None = None) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        found = await debriefs.visible_offer(session, page.principal, submission_id)
        booking = await debriefs.current_booking(session, found)
        if booking is None:  # the last call of this debrief, for its history
            booking = await session.scalar(select(Booking).where(Booking.offer_id == found.id)
                                           .order_by(Booking.updated_at.desc()).limit(1))
        slot = await session.get(Slot, booking.slot_id) if booking else None
        mine = [s for s in await debriefs.bookable_slots(session, config(page))
                if s.auditor_id == page.principal.sub]
    tz = slot.timezone if slot else "UTC"
    options = [(s.id, when(s.starts_at, s.timezone, page.lang)) for s in mine]
    own = booking is not None and booking.auditor_id == page.principal.sub
    return page.render("slot_debrief.html", status_code=status_code, title=page.t("debrief.title"), nav="debriefs",
                       offer=found, booking=booking, slot=slot, tz=tz, options=options, own=own,
                       case_url=case_url(found.submission_id), report_url=found.report_url or "",
                       started=booking is not None and booking.starts_at <= utcnow(), errors=errors or [],
                       values=values or {})


@router.get("/debriefs/{submission_id}")
async def debrief_page(submission_id: str, page: AuditorPage) -> HTMLResponse:
    return await render_debrief(page, submission_id)


@router.post("/debriefs/{submission_id}/reschedule")
async def reschedule(submission_id: str, page: AuditorPage) -> Response:
    form = await page.form()
    data, errors = page.parse(BookingCreate, {"slot_id": str(form.get("slot_id", ""))}, messages="debrief.errors")
    if data is None:
        return await render_debrief(page, submission_id, status_code=422, errors=errors)
    try:
        async with page.runtime.db.transaction() as session:
            await debriefs.reschedule(session, config(page), page.principal, submission_id, data.slot_id)
    except (SlotTaken, TooSoon, NotBooked, OfferClosed) as exc:
        status = page.request.app.state.errors[exc.code].status
        return await render_debrief(page, submission_id, status_code=status,
                                    errors=[FieldError("slot_id", page.problem(exc))])
    return await _done(page, submission_id, "rescheduled")


@router.post("/debriefs/{submission_id}/cancel")
async def cancel(submission_id: str, page: AuditorPage) -> Response:
    await page.form()
    with redirect_on(NotBooked, to=url(submission_id), done="not_booked"):
        async with page.runtime.db.transaction() as session:
            await debriefs.cancel(session, config(page), page.principal, submission_id)
    return await _done(page, submission_id, "cancelled")


@router.post("/debriefs/{submission_id}/outcome")
async def outcome(submission_id: str, page: AuditorPage) -> Response:
    form = await page.form()
    values = {"outcome": str(form.get("outcome", "")), "notes": str(form.get("notes", "")).strip()}
    data, errors = page.parse(OutcomeCreate, values, messages="debrief.errors")
    if data is not None:
        try:
            async with page.runtime.db.transaction() as session:
                await debriefs.record_outcome(session, page.principal, submission_id, data)
        except (CallNotStarted, NotBooked, OfferClosed) as exc:
            errors.append(FieldError("outcome", page.problem(exc)))
            return await render_debrief(page, submission_id, status_code=409, errors=errors, values=values)
        return await _done(page, submission_id, "outcome_recorded")
    return await render_debrief(page, submission_id, status_code=422, errors=errors, values=values)


async def _done(page: Page, submission_id: str, done: str) -> Response:
    after_change(page)
    return page.redirect(url(submission_id), done=done)

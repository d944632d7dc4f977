"""The city's debrief pages: the offer, free times to book (in the city's time zone), the
booked call (move, cancel), declining; and each person's mail preferences."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from services.notify import directory
from services.notify.debriefs import service as debriefs
from services.notify.console.common import BOOKING, CityPage, after_change, config
from services.notify.domain import OPTIONAL_KINDS, when
from services.notify.errors import (
    AlreadyBooked,
    NotBooked,
    NotFound,
    OfferClosed,
    OfferExpired,
    SlotTaken,
    TooSoon,
)
from services.notify.models import DebriefOffer, Slot
from services.notify.domain import OfferState
from shared.web.pages import FieldError, Page, Redirect, redirect_on

router = BOOKING.router()
CHANGE_ERRORS = (SlotTaken, TooSoon, AlreadyBooked, NotBooked)


def url(submission_id: str) -> str:
    return f"/booking/{submission_id}"


@router.get("/")
async def home(page: CityPage) -> HTMLResponse:
    """The city's latest debrief, or a page saying there is none yet."""
    async with page.runtime.db.sessionmaker() as session:
        latest = await session.scalar(select(DebriefOffer).where(DebriefOffer.city_id == page.principal.city_id)
                                      .order_by(DebriefOffer.created_at.desc()).limit(1))
    if latest is not None:
        raise Redirect(url(latest.submission_id))
    return page.render("booking_none.html", title=page.t("booking.title"), nav="debrief")


@router.get("/preferences")
async def preferences(page: CityPage) -> HTMLResponse:
    async with page.runtime.db.sessionmaker() as session:
        opted_out = await directory.preferences(session, page.principal.sub)
    return page.render("preferences.html", title=page.t("preferences.title"), nav="preferences",
                       kinds=[k.value for k in OPTIONAL_KINDS], opted_out=opted_out)


@router.post("/preferences")
async def save_preferences(page: CityPage) -> Response:
    form = await page.form()
    wanted = set(form.getlist("receive"))
    kinds = {k.value for k in OPTIONAL_KINDS}
    async with page.runtime.db.transaction() as session:
        await directory.set_preferences(session, page.principal.sub, kinds - wanted)
    return page.redirect("/booking/preferences", done="preferences_saved")


async def render(page: Page, submission_id: str, *, status_code: int = 200,
                 errors: list[FieldError] | None = None) -> HTMLResponse:
    cfg = config(page)
    async with page.runtime.db.sessionmaker() as session:
        found = await debriefs.visible_offer(session, page.principal, submission_id)
        booking = await debriefs.current_booking(session, found)
        city = await directory.city(session, found.city_id)
        free = await debriefs.bookable_slots(session, cfg) if found.state in (OfferState.OPEN, OfferState.BOOKED) else []
        slot = await session.get(Slot, booking.slot_id) if booking else None
    tz = city.timezone if city else "UTC"
    options = [(s.id, page.t("booking.slot_label", when=when(s.starts_at, tz, page.lang),
                             minutes=int((s.ends_at - s.starts_at).total_seconds() // 60), auditor=s.auditor_name))
               for s in free]
    return page.render("booking.html", status_code=status_code, title=page.t("booking.title"), nav="debrief",
                       offer=found, booking=booking, slot=slot, tz=tz, options=options, errors=errors or [])


@router.get("/{submission_id}")
async def debrief_page(submission_id: str, page: CityPage) -> HTMLResponse:
    return await render(page, submission_id)


async def _change(page: Page, submission_id: str, action, done: str) -> Response:
    form = await page.form()
    data, errors = page.parse(debriefs.BookingCreate, {"slot_id": str(form.get("slot_id", ""))},
                              messages="booking.errors")
    if data is None:
        return await render(page, submission_id, status_code=422, errors=errors)
    try:
        with redirect_on(OfferClosed, OfferExpired, to=url(submission_id), done="offer_closed"):
            async with page.runtime.db.transaction() as session:
                await action(session, config(page), page.principal, submission_id, data.slot_id)
    except CHANGE_ERRORS as exc:
        status = page.request.app.state.errors[exc.code].status
        return await render(page, submission_id, status_code=status,
                            errors=[FieldError("slot_id" if isinstance(exc, SlotTaken | TooSoon) else None,
                                               page.problem(exc))])
    after_change(page)
    return page.redirect(url(submission_id), done=done)


@router.post("/{submission_id}/book")
async def book(submission_id: str, page: CityPage) -> Response:
    return await _change(page, submission_id, debriefs.book, "booked")


@router.post("/{submission_id}/reschedule")
async def reschedule(submission_id: str, page: CityPage) -> Response:
    return await _change(page, submission_id, debriefs.reschedule, "rescheduled")


@router.post("/{submission_id}/cancel")
async def cancel(submission_id: str, page: CityPage) -> Response:
    async def action(session, cfg, principal, sid, _slot):
        await debriefs.cancel(session, cfg, principal, sid)

    await page.form()
    try:
        async with page.runtime.db.transaction() as session:
            await action(session, config(page), page.principal, submission_id, "")
    except NotBooked as exc:
        return await render(page, submission_id, status_code=409, errors=[FieldError(None, page.problem(exc))])
    after_change(page)
    return page.redirect(url(submission_id), done="cancelled")


@router.post("/{submission_id}/decline")
async def decline(submission_id: str, page: CityPage) -> Response:
    await page.form()
    with redirect_on(OfferClosed, OfferExpired, to=url(submission_id), done="offer_closed"):
        async with page.runtime.db.transaction() as session:
            await debriefs.decline(session, config(page), page.principal, submission_id)
    after_change(page)
    return page.redirect(url(submission_id), done="declined")


__all__ = ["NotFound", "router"]

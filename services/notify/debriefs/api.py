"""Debrief slots (auditors publish them) and a submission's debrief: book, move, cancel
or decline (the city; the auditor of the call moves or cancels too) and the outcome (the
auditor). Each change is followed by a signal to the certification workflow."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.notify.debriefs import service as debriefs
from services.notify.api.deps import AUTH, Auditor, AuditorOrOperator, CityOrAuditor, CityStaff, Config, Sender
from services.notify.debriefs.service import BookingCreate, BookingRead, DebriefRead, OutcomeCreate, SlotCreate, SlotRead
from services.notify.errors import (
    AlreadyBooked,
    CallNotStarted,
    InvalidSlot,
    NotBooked,
    NotFound,
    OfferClosed,
    OfferExpired,
    SlotBooked,
    SlotOverlaps,
    SlotTaken,
    TooSoon,
)
from services.notify.problems import problems
from shared.infra.auth import CurrentPrincipal
from shared.infra.runtime import ServiceRuntime
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["debriefs"])


def _after(runtime: ServiceRuntime, sender) -> None:
    """After a commit: the outbox, the workflow calls and the mail go out now."""
    runtime.wake_relay()
    sender.wake()


@router.get("/slots", response_model=list[SlotRead], summary="Debrief slots",
            description="A city: the open slots it may book. An auditor or operator: upcoming slots "
                        "(`mine=true`: the caller's own). Times are UTC instants; `timezone` is the auditor's.",
            responses=problems(*AUTH, "invalid_input"))
async def list_slots(principal: CurrentPrincipal, session: Session, mine: bool = False) -> list[SlotRead]:
    return [debriefs.slot_read(s, principal) for s in await debriefs.slots(session, principal, mine=mine)]


@router.post("/slots", status_code=status.HTTP_201_CREATED, response_model=SlotRead, summary="Publish a slot",
             description="An auditor offers a time for a debrief call: a wall-clock `starts_at` in `timezone` "
                         "(IANA name), a length and the call's link. Slots of one auditor never overlap.",
             responses=problems(*AUTH, SlotOverlaps, InvalidSlot, TooSoon, "invalid_input"))
async def publish_slot(data: SlotCreate, principal: Auditor, runtime: Runtime) -> SlotRead:
    async with runtime.db.transaction() as session:
        return debriefs.slot_read(await debriefs.publish_slot(session, principal, data), principal)


@router.delete("/slots/{slot_id}", response_model=SlotRead, summary="Withdraw an open slot",
               responses=problems(*AUTH, NotFound, SlotBooked))
async def withdraw_slot(slot_id: str, principal: Auditor, runtime: Runtime) -> SlotRead:
    async with runtime.db.transaction() as session:
        return debriefs.slot_read(await debriefs.withdraw_slot(session, principal, slot_id), principal)


@router.get("/bookings", response_model=list[BookingRead], summary="Booked calls",
            description="An auditor's booked calls (an operator: everyone's).", responses=problems(*AUTH))
async def list_bookings(principal: AuditorOrOperator, session: Session) -> list[BookingRead]:
    return [BookingRead.model_validate(b) for b in await debriefs.bookings_of(session, principal)]


@router.get("/debriefs/{submission_id}", response_model=DebriefRead, summary="A submission's debrief",
            description="The offer (open until `expires_at`), its booked call if any, and its outcome.",
            responses=problems(*AUTH, NotFound))
async def get_debrief(submission_id: str, principal: CurrentPrincipal, session: Session,
                      cfg: Config) -> DebriefRead:
    return await debriefs.read(session, cfg, await debriefs.visible_offer(session, principal, submission_id))


BOOKING_ERRORS = (*AUTH, NotFound, SlotTaken, TooSoon, OfferClosed, OfferExpired, "invalid_input")


@router.post("/debriefs/{submission_id}/booking", status_code=status.HTTP_201_CREATED, response_model=DebriefRead,
             summary="Book the debrief call in a slot",
             description="Of two cities racing for one slot exactly one gets it (`slot_taken` for the other). "
                         "The city's staff and the auditor are mailed an invite; the workflow is told.",
             responses=problems(*BOOKING_ERRORS, AlreadyBooked))
async def book(submission_id: str, data: BookingCreate, principal: CityStaff, runtime: Runtime, cfg: Config,
               sender: Sender) -> DebriefRead:
    async with runtime.db.transaction() as session:
        booking = await debriefs.book(session, cfg, principal, submission_id, data.slot_id)
        found = await debriefs.visible_offer(session, principal, booking.submission_id)
        read = await debriefs.read(session, cfg, found)
    _after(runtime, sender)
    return read


@router.put("/debriefs/{submission_id}/booking", response_model=DebriefRead, summary="Move the call to another slot",
            description="By the city, or by the call's auditor (to one of their own slots). The invite is sent "
                        "again with a higher SEQUENCE, and the workflow moves its reminders.",
            responses=problems(*BOOKING_ERRORS, NotBooked))
async def reschedule(submission_id: str, data: BookingCreate, principal: CityOrAuditor, runtime: Runtime,
                     cfg: Config, sender: Sender) -> DebriefRead:
    async with runtime.db.transaction() as session:
        await debriefs.reschedule(session, cfg, principal, submission_id, data.slot_id)
        read = await debriefs.read(session, cfg, await debriefs.visible_offer(session, principal, submission_id))
    _after(runtime, sender)
    return read


@router.delete("/debriefs/{submission_id}/booking", response_model=DebriefRead, summary="Cancel the call",
               description="By the city or the call's auditor: the invite is cancelled (METHOD:CANCEL) and the "
                           "city may book another time within the offer window.",
               responses=problems(*AUTH, NotFound, NotBooked))
async def cancel(submission_id: str, principal: CityOrAuditor, runtime: Runtime, cfg: Config,
                 sender: Sender) -> DebriefRead:
    async with runtime.db.transaction() as session:
        await debriefs.cancel(session, cfg, principal, submission_id)
        read = await debriefs.read(session, cfg, await debriefs.visible_offer(session, principal, submission_id))
    _after(runtime, sender)
    return read


@router.post("/debriefs/{submission_id}/decline", response_model=DebriefRead, summary="Decline the debrief",
             responses=problems(*AUTH, NotFound, OfferClosed, OfferExpired))
async def decline(submission_id: str, principal: CityStaff, runtime: Runtime, cfg: Config,
                  sender: Sender) -> DebriefRead:
    async with runtime.db.transaction() as session:
        found = await debriefs.decline(session, cfg, principal, submission_id)
        read = await debriefs.read(session, cfg, found)
    _after(runtime, sender)
    return read


@router.post("/debriefs/{submission_id}/outcome", response_model=DebriefRead, summary="Record the call's outcome",
             description="The call's auditor records `held` or `no_show` and notes, once the call has started: "
                         "the workflow's debrief stage completes.",
             responses=problems(*AUTH, NotFound, NotBooked, OfferClosed, CallNotStarted, "invalid_input"))
async def record_outcome(submission_id: str, data: OutcomeCreate, principal: Auditor, runtime: Runtime,
                         cfg: Config, sender: Sender) -> DebriefRead:
    async with runtime.db.transaction() as session:
        found = await debriefs.record_outcome(session, principal, submission_id, data)
        read = await debriefs.read(session, cfg, found)
    _after(runtime, sender)
    return read

"""Telling the certification workflow about a debrief: booked (or moved: a higher
sequence), cancelled, or completed (held, no-show, declined).

What is sent is the debrief's state as stored now, not the event that prompted it: the
request sends it after commit, and a consumer of the event sends it again (a signal lost to
an outage is delivered); re-sending the latest truth is harmless, and a stale event can
never undo a newer change. If the state moved while sending, it is sent again."""

from __future__ import annotations

from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.notify.models import Booking, DebriefOffer
from shared.contracts.workflows import (
    DebriefBooking,
    DebriefCancellation,
    DebriefResult,
    Signal,
    certification_workflow_id,
)
from shared.infra.db import Database
from shared.infra.logging import get_logger

log = get_logger(__name__)


async def _current(db: Database, submission_id: str) -> tuple[str, object] | None:
    async with db.sessionmaker() as session:
        offer = await session.scalar(select(DebriefOffer).where(DebriefOffer.submission_id == submission_id))
        if offer is None:
            return None
        if offer.state == "booked" and offer.booking_id:
            booking = await session.get(Booking, offer.booking_id)
            if booking is not None:
                return Signal.DEBRIEF_BOOKED, DebriefBooking(booking_id=booking.id, starts_at=booking.starts_at,
                                                             sequence=booking.sequence)
        if offer.state in ("completed", "declined"):
            return Signal.DEBRIEF_COMPLETED, DebriefResult(outcome=offer.outcome or offer.state,
                                                           notes=offer.notes or "")
        if offer.state == "open":
            last = await session.scalar(select(Booking).where(Booking.offer_id == offer.id,
                                                              Booking.state == "cancelled")
                                        .order_by(Booking.updated_at.desc()).limit(1))
            if last is not None:
                return Signal.DEBRIEF_CANCELLED, DebriefCancellation(booking_id=last.id)
    return None  # expired, or nothing to say yet


async def send_current(db: Database, client: Client | None, submission_id: str) -> bool:
    """Signal the workflow with the debrief's current state. False when there is nothing to
    say or the workflow is gone (finished); raises on other failures (callers retry)."""
    if client is None:
        raise RuntimeError("the workflow engine is not connected yet")
    handle = client.get_workflow_handle(certification_workflow_id(submission_id))
    sent = None
    for _ in range(3):
        state = await _current(db, submission_id)
        if state is None or state == sent:
            return sent is not None
        try:
            await handle.signal(state[0], state[1])
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                log.info("debrief.workflow_gone", submission_id=submission_id)
                return False
            raise
        sent = state
    return True


async def send_after_commit(db: Database, client: Client | None, submission_id: str) -> None:
    """From a request: best effort (the event's consumer delivers it if this fails)."""
    try:
        await send_current(db, client, submission_id)
    except Exception as exc:
        log.warning("debrief.signal_deferred", submission_id=submission_id, error=str(exc)[:300])

"""Audit's copy of a city's debrief call, kept from notify's events: the latest booking,
who booked it and who cancelled it; a late or repeated event never undoes a newer fact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.audit.debriefs import service as debriefs
from shared.contracts.events import DebriefBooked, DebriefCancelled, DebriefCompleted, DebriefRescheduled
from shared.contracts.vocabulary import DebriefEnding

START = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)


def booked(booking: str = "b1", sequence: int = 0, start: datetime = START) -> DebriefBooked:
    return DebriefBooked(submission_id="s1", offer_id="o1", booking_id=booking, slot_id="x", auditor_id="ana",
                         starts_at=start, ends_at=start + timedelta(minutes=45), call_url="https://meet.example.org/a",
                         sequence=sequence, booked_by_name="Lia Souza")


async def test_the_call_follows_bookings_moves_cancellations_and_the_end(audit):
    async with audit.runtime.db.transaction() as session:
        await debriefs.booked(session, booked())
        moved = START + timedelta(days=1)
        await debriefs.booked(session, DebriefRescheduled(**booked(sequence=1, start=moved).model_dump(),
                                                          previous_starts_at=START, by="auditor", by_name="Ana Ramos"))
        await debriefs.booked(session, booked(sequence=0))  # the first booking, redelivered late
        call = await debriefs.of(session, "s1")
        assert (call.state, call.starts_at, call.booked_by_name) == ("booked", moved, "Lia Souza")

        await debriefs.cancelled(session, DebriefCancelled(submission_id="s1", offer_id="o1", booking_id="b1",
                                                           starts_at=moved, by="city", by_name="Lia Souza"))
        await debriefs.booked(session, booked(sequence=1, start=moved))  # a late copy cannot revive it
        call = await debriefs.of(session, "s1")
        assert (call.state, call.cancelled_by_name) == ("cancelled", "Lia Souza")

        await debriefs.booked(session, booked("b2", start=START + timedelta(days=2)))  # booked again
        assert (await debriefs.of(session, "s1")).state == "booked"
        await debriefs.completed(session, DebriefCompleted(submission_id="s1", offer_id="o1",
                                                           outcome=DebriefEnding.HELD))
        await debriefs.booked(session, booked("b2", sequence=1))
        assert (await debriefs.of(session, "s1")).state == "held"

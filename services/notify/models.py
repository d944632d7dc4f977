"""Notify's own tables: what it learned from events (people, cities, submissions, review
cases and clarification rounds), people's mail preferences, the sent-once mail ledger, and
debrief offers, slots and bookings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.notify.domain import BookingState, OfferState, SlotState
from shared.infra.orm import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


# --- what notify knows, from events ---------------------------------------------------------


class Person(Base):
    """An account (user.registered): who to mail, in which language, and for whom."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), index=True)
    city_id: Mapped[str | None] = mapped_column(String(36), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    # An auditor's zone, as last chosen on the slot page (a city's staff use the city's).
    timezone: Mapped[str | None] = mapped_column(String(64))


class CityInfo(Base):
    """A city's profile (city.registered / city.updated): its time zone and language."""

    __tablename__ = "cities"

    city_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str] = mapped_column(String(5), default="en")


class Contact(Base):
    """A submission (submission.submitted): its city, cycle, contact and stage."""

    __tablename__ = "contacts"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    city_id: Mapped[str] = mapped_column(String(36))
    city_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    cycle: Mapped[str] = mapped_column(String(20), default="", server_default="")
    stage: Mapped[str] = mapped_column(String(30), default="submitted", server_default="submitted")


class CaseHolder(Base):
    """Who holds a submission's review case (case.assigned / case.released)."""

    __tablename__ = "case_holders"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    auditor_id: Mapped[str | None] = mapped_column(String(36))


class ClarificationRound(Base):
    """A clarification request (clarification.requested): who asked, what, by when."""

    __tablename__ = "clarification_rounds"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), index=True)
    requested_by: Mapped[str] = mapped_column(String(36), default="")
    criteria: Mapped[list] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OptOut(Base):
    """A person does not want one kind of mail."""

    __tablename__ = "mail_opt_outs"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)


# --- the sent-once ledger ---------------------------------------------------------------------


class Mail(Base):
    """Every mail: recorded `pending` (in the transaction of the fact that causes it) before
    it is sent, `sent` once the relay accepted it, `parked` after too many failures. One row
    per (cause, recipient); the Message-ID is derived from both."""

    __tablename__ = "mails"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    cause: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60), index=True)
    to: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[str | None] = mapped_column(String(36))
    language: Mapped[str] = mapped_column(String(5), default="en")
    city_id: Mapped[str | None] = mapped_column(String(36), index=True)
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    # An iCalendar invite attached (METHOD:REQUEST or CANCEL), or none.
    ics: Mapped[str | None] = mapped_column(Text)
    # What only the sent message carries (a confirmation link), by the name of its mark in
    # `text`/`html`; never shown, and emptied once the relay accepted the mail.
    secrets: Mapped[dict | None] = mapped_column(JSON)
    message_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # When a sender may take it next (after a failure's backoff, or a dead sender's claim).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("cause", "to", name="uq_mails_cause_to"),
                      Index("ix_mails_due", "state", "next_attempt_at"))


# The name the walking-skeleton test knows the ledger by.
SentMail = Mail


# --- debriefs ---------------------------------------------------------------------------------


class DebriefOffer(Base):
    """One per submission: open -> booked -> completed, or declined / expired."""

    __tablename__ = "debrief_offers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    city_id: Mapped[str] = mapped_column(String(36))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    city_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    tier: Mapped[str | None] = mapped_column(String(20))
    report_url: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default=OfferState.OPEN, server_default=OfferState.OPEN.value)
    # The booking in force while `booked`.
    booking_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Slot(Base):
    """A time an auditor is free for a call: open -> booked (-> open again when the call is
    cancelled or moved away) or withdrawn."""

    __tablename__ = "slots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    auditor_id: Mapped[str] = mapped_column(String(36), index=True)
    auditor_name: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The auditor's zone for this slot: their invite and pages show it in this zone.
    timezone: Mapped[str] = mapped_column(String(64))
    call_url: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), default=SlotState.OPEN)
    booking_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(Base):
    """A city's call in a slot. `sequence` grows each time it moves (the invite's SEQUENCE)."""

    __tablename__ = "bookings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    offer_id: Mapped[str] = mapped_column(String(36), ForeignKey("debrief_offers.id", name="fk_bookings_offer"), index=True)
    submission_id: Mapped[str] = mapped_column(String(36), index=True)
    city_id: Mapped[str] = mapped_column(String(36))
    slot_id: Mapped[str] = mapped_column(String(36), ForeignKey("slots.id", name="fk_bookings_slot"))
    auditor_id: Mapped[str] = mapped_column(String(36), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    call_url: Mapped[str] = mapped_column(String(500))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), default=BookingState.BOOKED)
    booked_by: Mapped[str] = mapped_column(String(36), default="")
    changed_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

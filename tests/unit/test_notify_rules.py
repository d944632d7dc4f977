"""Notify's rules without I/O: recipients, Message-IDs, backoff, slots, bookings, invites."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar

from services.notify import domain
from services.notify.domain import Invite, Kind, MailState, Recipient
from services.notify.errors import (
    CallNotStarted,
    InvalidInput,
    InvalidSlot,
    OfferClosed,
    OfferExpired,
    SlotOverlaps,
    TooSoon,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_every_kind_has_an_audience_and_city_kinds_are_the_optional_ones():
    assert set(domain.AUDIENCE) == set(Kind)
    assert Kind.CLARIFICATION_REQUESTED in domain.OPTIONAL_KINDS
    assert Kind.REGISTRATION_REQUESTED not in domain.OPTIONAL_KINDS
    assert Kind.REVIEW_OVERDUE not in domain.OPTIONAL_KINDS


def test_an_appeal_due_soon_reminds_its_deciders_and_operators_when_nobody_holds_it():
    assert not domain.appeal_reminder_to_operators("open", ["cam"])  # Cam is deciding it
    assert domain.appeal_reminder_to_operators("open", [])  # nobody has decided a criterion yet
    assert domain.appeal_reminder_to_operators("signoff", ["cam"])  # Cam cannot sign off what Cam decided
    assert domain.AUDIENCE[Kind.APPEAL_OVERDUE] == domain.Audience.OPERATOR
    assert Kind.APPEAL_DUE_SOON not in domain.OPTIONAL_KINDS and Kind.APPEAL_OVERDUE not in domain.OPTIONAL_KINDS


def test_city_mail_goes_to_every_staff_member_less_those_who_opted_out_once_per_address():
    staff = [Recipient("a@city.gov", user_id="u1"), Recipient("B@city.gov", user_id="u2"),
             Recipient("b@city.gov", user_id="u3")]
    got = domain.city_recipients(staff, {("u1", "report_ready")}, Kind.REPORT_READY)
    assert [r.email for r in got] == ["B@city.gov"]
    assert len(domain.city_recipients(staff, {("u1", "report_ready")}, Kind.REVIEW_COMPLETED)) == 2


def test_message_id_is_derived_from_cause_and_recipient():
    a = domain.message_id("event:1", "Dana@city.gov")
    assert a == domain.message_id("event:1", "dana@city.gov")
    assert a != domain.message_id("event:2", "dana@city.gov") != domain.message_id("event:1", "x@city.gov")
    assert a.startswith("<") and a.endswith("@wwc.notify>") and len(a) == len("<@wwc.notify>") + 32


def test_retries_back_off_doubling_up_to_a_cap_then_park():
    delays = [domain.retry_delay(n, base=30, most=600).total_seconds() for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 600, 600]
    assert domain.after_failure(7, 8) == MailState.PENDING
    assert domain.after_failure(8, 8) == MailState.PARKED


def test_a_wall_clock_time_becomes_an_instant_and_a_skipped_time_is_refused():
    assert domain.local_to_utc(date(2026, 5, 5), time(10, 0), "America/Sao_Paulo") == \
        datetime(2026, 5, 5, 13, 0, tzinfo=UTC)
    assert domain.local_to_utc(date(2026, 7, 1), time(9, 0), "America/New_York") == \
        datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):  # 02:30 does not exist on the spring-forward night
        domain.local_to_utc(date(2026, 3, 8), time(2, 30), "America/New_York")
    with pytest.raises(InvalidInput):
        domain.local_to_utc(date(2026, 3, 8), time(9), "Mars/Olympus")


def test_slot_rules():
    start = NOW + timedelta(days=2)
    domain.check_slot(start, start + timedelta(minutes=45), "https://meet.example.org/x", NOW)
    with pytest.raises(InvalidSlot):
        domain.check_slot(start, start + timedelta(minutes=5), "https://meet.example.org/x", NOW)
    with pytest.raises(TooSoon):
        domain.check_slot(NOW - timedelta(hours=1), NOW, "https://meet.example.org/x", NOW)
    with pytest.raises(InvalidInput):
        domain.check_slot(start, start + timedelta(minutes=45), "javascript:alert(1)", NOW)


def test_an_auditors_slots_never_overlap_but_may_touch():
    ten = NOW.replace(hour=10)
    existing = [(ten, ten + timedelta(hours=1))]
    domain.check_no_overlap(ten + timedelta(hours=1), ten + timedelta(hours=2), existing)
    domain.check_no_overlap(ten - timedelta(hours=1), ten, existing)
    with pytest.raises(SlotOverlaps):
        domain.check_no_overlap(ten + timedelta(minutes=30), ten + timedelta(minutes=90), existing)
    with pytest.raises(SlotOverlaps):
        domain.check_no_overlap(ten - timedelta(minutes=10), ten + timedelta(hours=2), existing)


def test_booking_window_notice_and_outcome():
    domain.check_offer_open("open", NOW + timedelta(days=1), NOW)
    domain.check_offer_open("booked", NOW - timedelta(days=1), NOW)  # a booked call may still move
    with pytest.raises(OfferExpired):
        domain.check_offer_open("open", NOW, NOW)
    for state in ("completed", "declined", "expired"):
        with pytest.raises(OfferClosed):
            domain.check_offer_open(state, NOW + timedelta(days=1), NOW)
    domain.check_notice(NOW + timedelta(hours=2), NOW, timedelta(hours=1))
    with pytest.raises(TooSoon):
        domain.check_notice(NOW + timedelta(minutes=30), NOW, timedelta(hours=1))
    with pytest.raises(CallNotStarted):
        domain.check_outcome("held", NOW + timedelta(minutes=1), NOW)
    domain.check_outcome("no_show", NOW, NOW)
    with pytest.raises(InvalidInput):
        domain.check_outcome("great", NOW, NOW)


def invite(tz: str, method: str = "REQUEST", sequence: int = 0) -> Calendar:
    start = datetime(2026, 5, 5, 13, 0, tzinfo=UTC)
    return Calendar.from_ical(domain.build_invite(Invite(
        uid=domain.invite_uid("b1"), sequence=sequence, method=method, starts_at=start,
        ends_at=start + timedelta(minutes=45), timezone=tz, summary="Debrief", description="Call",
        call_url="https://meet.example.org/x", organizer=("wwc@example.org", "WWC"),
        attendees=(("dana@city.gov", "Dana"), ("ana@wwc.org", "Ana"))), stamp=NOW))


def test_the_invite_carries_the_same_instant_in_each_readers_zone():
    city, auditor = invite("America/Sao_Paulo"), invite("America/New_York")
    [c], [a] = city.walk("VEVENT"), auditor.walk("VEVENT")
    assert c["dtstart"].params["TZID"] == "America/Sao_Paulo" and a["dtstart"].params["TZID"] == "America/New_York"
    assert c.decoded("dtstart").hour == 10 and a.decoded("dtstart").hour == 9
    assert c.decoded("dtstart") == a.decoded("dtstart") == datetime(2026, 5, 5, 13, 0, tzinfo=UTC)
    assert str(city["method"]) == "REQUEST" and str(c["uid"]) == str(a["uid"]) == "debrief-b1@wwc.notify"
    assert [tz["tzid"] for tz in city.walk("VTIMEZONE")] == ["America/Sao_Paulo"]
    assert "https://meet.example.org/x" in str(c["location"])
    assert {str(x) for x in c["attendee"]} == {"mailto:dana@city.gov", "mailto:ana@wwc.org"}


def test_a_cancelled_invite_keeps_its_uid_with_a_higher_sequence():
    cancelled = invite("America/Sao_Paulo", "CANCEL", 2)
    [event] = cancelled.walk("VEVENT")
    assert str(cancelled["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert event["sequence"] == 2 and str(event["uid"]) == "debrief-b1@wwc.notify"


def test_when_is_said_in_the_readers_language_and_zone():
    at = datetime(2026, 5, 5, 13, 0, tzinfo=UTC)
    assert domain.when(at, "America/Sao_Paulo", "pt") == "terça-feira, 5 de maio de 2026, 10:00 (São Paulo)"
    assert "martes" in domain.when(at, "America/New_York", "es") and ", 9:00 " in domain.when(at, "America/New_York", "es")
    assert domain.when(at, "America/New_York", "en").startswith("Tuesday, May 5, 2026")
    assert domain.when(at, "America/New_York", "en").endswith("(New York)")  # the zone named by its place

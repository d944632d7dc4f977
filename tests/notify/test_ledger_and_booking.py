"""Notify on its own (real NATS, database and SMTP sink): each mail once per recipient even
when notify is killed mid-batch, failing mail backs off and parks where operators see it,
and two cities racing for one slot leave exactly one booking."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from devtools.harness import Stack
from devtools import devstack
from services.notify.debriefs import service as debriefs
from services.notify.config import NotifyOptions
from services.notify.models import Booking, Mail, Slot
from certification.activities import DebriefRequest
from shared.contracts.events import CityProfile, RegistrationRequested, Subject, SubmissionSubmitted
from shared.infra.auth import Role
from shared.infra.settings import SmtpSettings
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.notify.helpers import mails_to, publish, user

FAST = NotifyOptions(claim_seconds=1, poll_seconds=0.2, retry_backoff_seconds=0.05, max_attempts=3,
                     min_notice_minutes=0)


async def notify_stack(infra, backend, tmp_path, **kwargs) -> Stack:
    stack = Stack(infra=infra, backend=backend, tmp=tmp_path, services=("notify",),
                  build_kwargs={"notify": {"options": FAST, **kwargs}})
    return await stack.start()


async def states(rt) -> dict[str, int]:
    async with rt.db.sessionmaker() as session:
        rows = (await session.execute(select(Mail.state, func.count()).group_by(Mail.state))).all()
    return dict(rows)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_kill_mid_batch_repeats_at_most_one_mail_with_the_same_message_id(infra, backend, tmp_path):
    stack = await notify_stack(infra, backend, tmp_path)
    rt = stack.runtimes["notify"]
    tag = uuid.uuid4().hex[:6]
    city_id, sub_id = f"city-{tag}", f"sub-{tag}"
    staff = [f"staff{i}-{tag}@riverton.gov" for i in range(12)]
    try:
        await publish(rt, Subject.CITY_REGISTERED, CityProfile(city_id=city_id, name="Riverton", country="US",
                                                               population=112_000, timezone="America/Chicago"))
        for email in staff:
            await user(rt, role="city", email=email, city_id=city_id)

        async def known():
            async with rt.db.sessionmaker() as session:
                from services.notify.models import Person
                n = await session.scalar(select(func.count()).select_from(Person).where(Person.city_id == city_id))
            return n == len(staff)

        await eventually(known, timeout=30)
        # The third mail is accepted by the relay, and notify dies before marking it sent.
        accepted = asyncio.Event()
        seen = []

        async def hold(out):
            seen.append(out)
            if len(seen) == 3:
                accepted.set()
                await asyncio.Event().wait()  # killed here

        rt.mail_sender.before_mark = hold
        await publish(rt, Subject.SUBMISSION_SUBMITTED, SubmissionSubmitted(
            submission_id=sub_id, city_id=city_id, cycle="2026", catalog_version="wwc-2019", answered=45,
            evidence_count=3, city_name="Riverton", contact_email=staff[0]), submission_id=sub_id, city_id=city_id)
        await asyncio.wait_for(accepted.wait(), timeout=30)
        await stack.restart("notify")
        rt = stack.runtimes["notify"]

        async def all_sent():
            return (await states(rt)).get("sent") == len(staff)

        await eventually(all_sent, timeout=30)
        got = [m for m in mails_to(infra.mail_dir, *staff) if "Riverton" in str(m["Subject"])]
        by_to: dict[str, set[str]] = {}
        for m in got:
            by_to.setdefault(str(m["To"]), set()).add(str(m["Message-ID"]))
        assert set(by_to) == set(staff)
        assert all(len(ids) == 1 for ids in by_to.values())  # a repeat has the same Message-ID
        assert len(staff) <= len(got) <= len(staff) + 1
        async with rt.db.sessionmaker() as session:
            rows = (await session.scalars(select(Mail).where(Mail.submission_id == sub_id))).all()
        assert {r.message_id for r in rows} == {ids.pop() for ids in by_to.values()}
    finally:
        await stack.stop()


async def outbox_events(runtime, subject: str) -> list[dict]:
    from shared.infra.tables import outbox

    async with runtime.db.sessionmaker() as session:
        return list((await session.execute(select(outbox.c.body).where(outbox.c.subject == subject))).scalars())


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_failing_mail_backs_off_then_parks_and_operators_retry_it(infra, backend, tmp_path):
    dead = devstack.free_port()  # nothing listens here
    stack = await notify_stack(infra, backend, tmp_path, smtp=SmtpSettings(port=dead, timeout_seconds=2))
    rt = stack.runtimes["notify"]
    tag = uuid.uuid4().hex[:6]
    try:
        await user(rt, role="operator", email=f"ops-{tag}@wwc.org")
        await publish(rt, Subject.REGISTRATION_REQUESTED, RegistrationRequested(
            registration_id="r1", email=f"new-{tag}@city.gov", contact_name="Dana", city_name="Riverton",
            language="es", confirm_url="https://x/confirm?token=t", expires_at=datetime.now(UTC) + timedelta(days=2)))

        async def parked():
            async with rt.db.sessionmaker() as session:
                rows = (await session.scalars(select(Mail).where(Mail.state == "parked"))).all()
            kinds = {r.kind for r in rows}
            return rows if {"registration_requested", "delivery_failed"} <= kinds else None

        rows = await eventually(parked, timeout=40)
        failed = next(r for r in rows if r.kind == "registration_requested")
        assert failed.attempts == FAST.max_attempts and "Connection" in (failed.last_error or "")
        notice = next(r for r in rows if r.kind == "delivery_failed")
        assert notice.to == f"ops-{tag}@wwc.org" and failed.to in notice.text
        ops = stack.client("notify", token(Role.OPERATOR))
        listed = (await ops.get("/api/v1/mail", params={"state": "parked", "kind": "registration_requested"})).json()
        assert [m["id"] for m in listed["items"]] == [failed.id] and listed["items"][0]["attempts"] == 3
        assert listed["items"][0]["subject"].startswith("Confirme su cuenta")
        # The operator console (reporting) learns of it from an event, and of the retry.
        assert [e["payload"]["mail_id"] for e in await outbox_events(rt, Subject.MAIL_FAILED)
                if e["payload"]["kind"] == "registration_requested"] == [failed.id]
        r = await ops.post(f"/api/v1/mail/{failed.id}/retry")
        assert r.status_code == 200 and r.json()["state"] == "pending" and r.json()["attempts"] == 0
        assert [e["payload"]["mail_id"] for e in await outbox_events(rt, Subject.MAIL_RETRIED)] == [failed.id]
        again = await ops.post(f"/api/v1/mail/{failed.id}/retry")
        assert again.status_code == 409 and again.json()["code"] == "mail_not_parked"
        city = stack.client("notify", token(Role.CITY, city_id="c1"))
        assert (await city.get("/api/v1/mail")).status_code == 403
    finally:
        await stack.stop()


async def test_two_cities_racing_for_one_slot_leave_exactly_one_booking(infra, backend, tmp_path):
    stack = await notify_stack(infra, backend, tmp_path)
    rt, app = stack.runtimes["notify"], stack.apps["notify"]
    cfg = app.state.debrief_config
    tag = uuid.uuid4().hex[:6]
    try:
        auditor_id = await user(rt, role="auditor", email=f"ana-{tag}@wwc.org", name="Ana Auditor")
        cities = []
        for name in ("Riverton", "Lakeside"):
            city_id, sub_id = f"{name}-{tag}", f"s-{name}-{tag}"
            async with rt.db.transaction() as session:
                await debriefs.offer(session, cfg, DebriefRequest(
                    submission_id=sub_id, city_id=city_id, city_name=name, contact_email=f"data@{name}-{tag}.gov"))
            cities.append((city_id, sub_id, stack.client("notify", token(Role.CITY, city_id=city_id, sub=f"u-{name}"))))
        auditor = stack.client("notify", token(Role.AUDITOR, sub=auditor_id))
        start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0, tzinfo=None)
        r = await auditor.post("/api/v1/slots", json={"starts_at": start.isoformat(), "timezone": "America/New_York",
                                                      "duration_minutes": 45, "call_url": "https://meet.example.org/a"})
        assert r.status_code == 201, r.text
        slot_id = r.json()["id"]
        overlap = await auditor.post("/api/v1/slots", json={
            "starts_at": (start + timedelta(minutes=30)).isoformat(), "timezone": "America/New_York",
            "duration_minutes": 45, "call_url": "https://meet.example.org/a"})
        assert overlap.status_code == 409 and overlap.json()["code"] == "slot_overlaps"

        answers = await asyncio.gather(*(client.post(f"/api/v1/debriefs/{sub_id}/booking", json={"slot_id": slot_id})
                                         for _, sub_id, client in cities))
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        assert [a.json()["code"] for a in answers if a.status_code == 409] == ["slot_taken"]
        async with rt.db.sessionmaker() as session:
            bookings = (await session.scalars(select(Booking).where(Booking.slot_id == slot_id))).all()
            slot = await session.get(Slot, slot_id)
        assert len(bookings) == 1 and slot.state == "booked" and slot.booking_id == bookings[0].id
        loser = next(c for c, a in zip(cities, answers, strict=True) if a.status_code == 409)
        debrief = (await loser[2].get(f"/api/v1/debriefs/{loser[1]}")).json()
        assert debrief["state"] == "open" and debrief["booking"] is None
        # Another city's debrief is not there for it.
        assert (await cities[0][2].get(f"/api/v1/debriefs/{cities[1][1]}")).status_code == 404
    finally:
        await stack.stop()

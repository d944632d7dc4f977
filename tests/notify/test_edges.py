"""Notify's edge (issue 18): a confirmation link is readable by its recipient only (never in
the mail log an operator reads); one address gets a handful of registration mails an hour
however many are asked for; call links are https URLs (a CR/LF is refused, not a 500 at
every booking); an invite's METHOD comes from the booking, never from a city's name."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from certification.activities import DebriefRequest
from services.notify.debriefs import service as debriefs
from services.notify.models import Mail
from shared.contracts.events import RegistrationRequested, Subject
from shared.infra.auth import Role
from shared.infra.consumer import list_parked
from shared.infra.tables import processed_events
from tests.conftest import token
from tests.infra.test_consumer import eventually
from tests.notify.helpers import invite_of, mails_to, publish, text_of, user
from tests.notify.test_ledger_and_booking import FAST, notify_stack


def sent_to(mail_dir, email: str):
    async def found():
        return mails_to(mail_dir, email) or None
    return found


async def ask_registration(rt, email: str, secret: str, **kw) -> None:
    await publish(rt, Subject.REGISTRATION_REQUESTED, RegistrationRequested(
        registration_id=str(uuid.uuid4()), email=email, contact_name="Dana", city_name="Riverton", language="en",
        confirm_url=f"http://127.0.0.1:8001/portal/register/confirm?token={secret}",
        expires_at=datetime.now(UTC) + timedelta(days=2), **kw))


async def test_an_operator_reading_the_mail_log_cannot_find_the_confirmation_token(infra, backend, tmp_path):
    stack = await notify_stack(infra, backend, tmp_path)
    rt = stack.runtimes["notify"]
    email = f"new-{uuid.uuid4().hex[:6]}@city.gov"
    secret = secrets.token_urlsafe(32)
    try:
        await ask_registration(rt, email, secret)
        sent = await eventually(sent_to(infra.mail_dir, email), timeout=30)
        # The recipient's message carries the link, in both parts.
        assert secret in text_of(sent[0])
        assert secret in sent[0].get_body(("html",)).get_content()
        ops = stack.client("notify", token(Role.OPERATOR))

        async def logged():
            page = (await ops.get("/api/v1/mail", params={"to": email})).json()
            return page if page["items"] and page["items"][0]["state"] == "sent" else None

        page = await eventually(logged, timeout=30)
        detail = await ops.get(f"/api/v1/mail/{page['items'][0]['id']}")
        assert detail.status_code == 200
        assert secret not in detail.text and secret not in str(page)
        assert "[link withheld]" in detail.json()["text"]
        # Nor does any stored copy keep it once it is sent.
        async with rt.db.sessionmaker() as session:
            row = await session.scalar(select(Mail).where(Mail.to == email))
        assert secret not in f"{row.text}{row.html}{row.secrets}{row.subject}"
    finally:
        await stack.stop()


async def test_one_address_gets_a_handful_of_registration_mails_an_hour(infra, backend, tmp_path):
    stack = await notify_stack(infra, backend, tmp_path)
    rt = stack.runtimes["notify"]
    victim = f"victim-{uuid.uuid4().hex[:6]}@city.gov"
    try:
        for _ in range(15):
            await ask_registration(rt, victim, secrets.token_urlsafe(32))
        await ask_registration(rt, "someone-else@city.gov", secrets.token_urlsafe(32))

        async def recorded():
            async with rt.db.sessionmaker() as session:
                other = await session.scalar(select(func.count()).select_from(Mail)
                                             .where(Mail.to == "someone-else@city.gov"))
                processed = await session.scalar(select(func.count()).select_from(Mail).where(Mail.to == victim))
            return processed if other else None

        await eventually(recorded, timeout=30)
        assert await recorded() == FAST.address_mail_per_hour

        async def handled():  # every request handled (the capped ones too), none parked
            async with rt.db.sessionmaker() as session:
                n = await session.scalar(select(func.count()).select_from(processed_events).where(
                    processed_events.c.subject == Subject.REGISTRATION_REQUESTED))
            return n if n >= 16 else None

        await eventually(handled, timeout=30)
        assert await list_parked(rt.db) == []
    finally:
        await stack.stop()


async def test_call_links_are_https_urls_and_invites_keep_their_method(infra, backend, tmp_path):
    stack = await notify_stack(infra, backend, tmp_path)
    rt, cfg = stack.runtimes["notify"], stack.apps["notify"].state.debrief_config
    tag = uuid.uuid4().hex[:6]
    try:
        auditor_id = await user(rt, role="auditor", email=f"ana-{tag}@wwc.org", name="Ana Auditor")
        auditor = stack.client("notify", token(Role.AUDITOR, sub=auditor_id))
        start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0, tzinfo=None)

        def slot(url: str, hours: int = 0) -> dict:
            return {"starts_at": (start + timedelta(hours=hours)).isoformat(), "timezone": "America/New_York",
                    "duration_minutes": 45, "call_url": url}

        for bad in ("https://meet.example.org/a\r\nMETHOD:CANCEL", "https://meet.example.org/a\nX",
                    "http://meet.example.org/a", "javascript:alert(1)", "https:///nohost"):
            r = await auditor.post("/api/v1/slots", json=slot(bad))
            assert r.status_code == 422, (bad, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert [e["field"] for e in r.json()["errors"]] == ["call_url"], r.text

        r = await auditor.post("/api/v1/slots", json=slot("https://meet.example.org/ok"))
        assert r.status_code == 201, r.text
        city_id, sub_id, contact = f"c-{tag}", f"s-{tag}", f"data-{tag}@ogden.gov"
        async with rt.db.transaction() as session:
            await debriefs.offer(session, cfg, DebriefRequest(
                submission_id=sub_id, city_id=city_id, city_name="Ogden\nMETHOD:CANCEL METHOD:CANCEL",
                contact_email=contact))
        city = stack.client("notify", token(Role.CITY, city_id=city_id, sub=f"u-{tag}"))
        booked = await city.post(f"/api/v1/debriefs/{sub_id}/booking", json={"slot_id": r.json()["id"]})
        assert booked.status_code == 201, booked.text

        async def invite():
            return next((m for m in mails_to(infra.mail_dir, contact) if invite_of(m) is not None), None)

        msg = await eventually(invite, timeout=30)
        part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
        assert part.get_param("method") == "REQUEST"
        assert str(invite_of(msg)["method"]) == "REQUEST"
    finally:
        await stack.stop()


async def test_a_parked_registration_event_shows_operators_no_token(infra, backend, tmp_path):
    """An event carrying a confirmation link that ends up parked is listed for operators
    without its token (the replay still has the whole message)."""
    from shared.infra.tables import parked_messages

    stack = await notify_stack(infra, backend, tmp_path)
    rt = stack.runtimes["notify"]
    secret = secrets.token_urlsafe(32)
    try:
        body = ('{"subject": "wwc.intake.registration.requested", "payload": {"confirm_url": '
                f'"http://127.0.0.1:8001/portal/register/confirm?token={secret}"}}}}')
        async with rt.db.transaction() as session:
            await session.execute(parked_messages.insert().values(
                consumer="notify-intake-registration-requested", subject="wwc.intake.registration.requested",
                event_id=str(uuid.uuid4()), body=body, headers={}, error="boom", deliveries=15))
        ops = stack.client("notify", token(Role.OPERATOR))
        r = await ops.get("/ops/parked")
        assert r.status_code == 200 and "registration.requested" in r.text
        assert secret not in r.text and "token=[withheld]" in r.text
    finally:
        await stack.stop()


def test_an_invite_for_a_slot_stored_with_a_broken_link_is_still_written():
    """A slot saved before links were checked (with a CR/LF in it) no longer fails every
    booking: the invite is written, the link on one line, and its METHOD stays REQUEST."""
    from icalendar import Calendar

    from services.notify.domain import Invite, build_invite, invite_method

    now = datetime.now(UTC)
    ics = build_invite(Invite(uid="u@wwc", sequence=0, method="REQUEST", starts_at=now, ends_at=now + timedelta(hours=1),
                              timezone="America/Chicago", summary="debrief: Ogden METHOD:CANCEL", description="call",
                              call_url="https://meet.example.org/a\r\nMETHOD:CANCEL",
                              organizer=("o@wwc.org", "WWC"), attendees=(("a@ogden.gov", "A"),)), stamp=now)
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["url"]) == "https://meet.example.org/aMETHOD:CANCEL"
    assert invite_method(ics) == "REQUEST"

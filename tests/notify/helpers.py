"""Helpers for notify's tests: a notify stack, events as producers would record them, the
SMTP sink's messages, invites."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

from icalendar import Calendar

from devtools.devstack import read_mail
from shared.contracts.events import Subject, UserRegistered, make_event
from shared.infra.outbox import add_event


async def publish(runtime, subject: str, payload, **envelope) -> None:
    """Record an event in a producer's outbox (as that service would) and relay it."""
    async with runtime.db.transaction() as session:
        await add_event(session, make_event(subject, payload, **envelope))
    runtime.wake_relay()


async def user(runtime, *, role: str, email: str, name: str = "", city_id: str | None = None,
               language: str = "en", user_id: str | None = None) -> str:
    user_id = user_id or str(uuid.uuid4())
    await publish(runtime, Subject.USER_REGISTERED, UserRegistered(
        user_id=user_id, email=email, name=name or email.split("@")[0], role=role, city_id=city_id,
        language=language), city_id=city_id)
    return user_id


def mails_to(mail_dir, *addresses: str) -> list[EmailMessage]:
    wanted = {a.lower() for a in addresses}
    return [m for m in read_mail(mail_dir) if str(m["To"]).lower() in wanted]


def invite_of(msg: EmailMessage) -> Calendar | None:
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_content())
    return None


def text_of(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()

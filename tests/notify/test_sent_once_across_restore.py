"""A mail goes once even when notify's database forgets that it went (restored from a backup
taken before the send): the object store's marker of the Message-ID says it went. And while
the object store is away, nothing is sent (unknown whether it went) and nothing is lost."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from devtools import devstack
from devtools.harness import Stack
from services.notify.models import Mail
from services.notify.sent_marks import MAIL_BUCKET, marker_key
from shared.contracts.events import RegistrationRequested, Subject, make_event
from shared.infra.outbox import add_event
from tests.conftest import S3_KEY, S3_SECRET
from tests.infra.test_consumer import eventually
from tests.notify.helpers import mails_to
from tests.notify.test_ledger_and_booking import FAST

def registration(email: str):
    """One event, as intake records it: the same envelope (event id) both times."""
    return make_event(Subject.REGISTRATION_REQUESTED, RegistrationRequested(
        registration_id=str(uuid.uuid4()), email=email, contact_name="Dana", city_name="Riverton",
        confirm_url="https://x/confirm?token=t", expires_at=datetime.now(UTC) + timedelta(days=2)))


async def record(runtime, envelope) -> None:
    async with runtime.db.transaction() as session:
        await add_event(session, envelope)
    runtime.wake_relay()


async def mail_rows(runtime, email: str) -> list[Mail]:
    async with runtime.db.sessionmaker() as session:
        return list((await session.scalars(select(Mail).where(Mail.to == email))).all())


async def sent(runtime, email: str):
    rows = await mail_rows(runtime, email)
    return rows if rows and all(r.state == "sent" for r in rows) else None


async def test_a_mail_sent_before_a_restore_is_not_sent_again(infra, backend, tmp_path):
    email = f"new-{uuid.uuid4().hex[:8]}@city.gov"
    event = registration(email)
    for d in ("first", "restored"):
        (tmp_path / d).mkdir()
    first = await Stack(infra=infra, backend=backend, tmp=tmp_path / "first", services=("notify",),
                        build_kwargs={"notify": {"options": FAST}}).start()
    try:
        r = await first.client("notify").get("/readyz")  # notify needs the store to send
        assert r.status_code == 200 and r.json()["checks"]["s3"] == "ok", r.text
        await record(first.runtimes["notify"], event)
        [row] = await eventually(lambda: sent(first.runtimes["notify"], email), timeout=30)
        assert [str(m["Message-ID"]) for m in mails_to(infra.mail_dir, email)] == [row.message_id]
    finally:
        await first.stop()  # (PostgreSQL: its schema is dropped: the restored copy predates the mail)

    # The restore: notify's database from before the mail, the NATS store gone, the same
    # object store; the producer's outbox republishes the event (`wwc db republish --since`).
    nats = devstack.start_nats(devstack.free_port(), tmp_path / "nats-after")
    try:
        restored = await Stack(infra=dataclasses.replace(infra, nats_url=nats.url), backend=backend,
                               tmp=tmp_path / "restored", services=("notify",), tag=first.tag,
                               build_kwargs={"notify": {"options": FAST}}).start()
        rt = restored.runtimes["notify"]
        try:
            assert await mail_rows(rt, email) == []  # the restored ledger never heard of it
            await record(rt, event)
            [again] = await eventually(lambda: sent(rt, email), timeout=30)
            assert again.message_id == row.message_id
            assert rt.mail_sender.already_sent == 1 and rt.mail_sender.sent == 0
            assert len(mails_to(infra.mail_dir, email)) == 1  # delivered once
        finally:
            await restored.stop()
    finally:
        nats.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_while_the_object_store_is_away_mail_waits_and_then_goes_once(infra, backend, tmp_path):
    port = devstack.free_port()
    s3_dir = tmp_path / "s3"
    s3 = devstack.start_s3(port, s3_dir, access_key=S3_KEY, secret_key=S3_SECRET)
    stack = await Stack(infra=dataclasses.replace(infra, s3_endpoint=s3.endpoint), backend=backend, tmp=tmp_path,
                        services=("notify",), build_kwargs={"notify": {"options": FAST}}).start()
    rt = stack.runtimes["notify"]
    email = f"new-{uuid.uuid4().hex[:8]}@city.gov"
    try:
        s3.stop()
        await record(rt, registration(email))
        [waiting] = await eventually(lambda: mail_rows(rt, email), timeout=30)
        # The sender tried, could not ask the store, and gave the mail back unsent.
        await eventually(lambda: store_failed(rt), timeout=30)
        [waiting] = await mail_rows(rt, email)
        assert waiting.state == "pending"
        assert mails_to(infra.mail_dir, email) == []

        s3 = devstack.start_s3(port, s3_dir, access_key=S3_KEY, secret_key=S3_SECRET)
        [done] = await eventually(lambda: sent(rt, email), timeout=60)
        assert len(mails_to(infra.mail_dir, email)) == 1
        # The tries while the store was away did not count (else it would park after max_attempts).
        assert done.attempts == 1
        store = rt.storage
        assert store is not None
        assert await store.exists(store.bucket(MAIL_BUCKET), marker_key(done.message_id))
    finally:
        await stack.stop()
        s3.stop()


async def store_failed(rt) -> bool:
    return rt.mail_sender.store_failures > 0

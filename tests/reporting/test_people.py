"""The operator console names people from the accounts intake announced: only the ones
asked for, by id, on SQLite and PostgreSQL (the look-up filters the ledger's JSON)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from devtools.harness import migrated_database
from services.reporting.operations import service as operations
from services.reporting.models import LedgerEntry
from shared.contracts.events import Subject


async def test_people_are_named_from_their_registrations(backend, tmp_path):
    async with migrated_database("reporting", backend, tmp_path) as db:
        async with db.transaction() as session:
            now = datetime.now(UTC)
            for user_id, name, email in (("u-ana", "Ana Ramos", "ana@wwc.org"), ("u-ben", "", "ben@wwc.org"),
                                         ("u-city", "Dana", "dana@riverton.gov")):
                session.add(LedgerEntry(event_id=str(uuid.uuid4()), subject=Subject.USER_REGISTERED, occurred_at=now,
                                        payload={"user_id": user_id, "name": name, "email": email}))
            session.add(LedgerEntry(event_id=str(uuid.uuid4()), subject=Subject.CASE_ASSIGNED, occurred_at=now,
                                    payload={"user_id": "u-ana", "name": "not a registration"}))
        async with db.sessionmaker() as session:
            assert await operations.people(session, {"u-ana", "u-ben", "u-nobody"}) == {
                "u-ana": "Ana Ramos", "u-ben": "ben@wwc.org"}  # no name: the email
            assert await operations.people(session, set()) == {}


async def test_an_operators_zone_is_the_one_intake_last_announced(backend, tmp_path):
    async with migrated_database("reporting", backend, tmp_path) as db:
        async with db.transaction() as session:
            start = datetime(2026, 12, 1, tzinfo=UTC)
            for hours, subject, zone in ((0, Subject.USER_REGISTERED, None), (1, Subject.USER_UPDATED, "America/Chicago"),
                                         (2, Subject.USER_UPDATED, "America/Mexico_City")):
                session.add(LedgerEntry(event_id=str(uuid.uuid4()), subject=subject,
                                        occurred_at=start + timedelta(hours=hours),
                                        payload={"user_id": "op-1", "email": "op@wwc.org", "role": "operator",
                                                 "timezone": zone}))
            session.add(LedgerEntry(event_id=str(uuid.uuid4()), subject=Subject.USER_REGISTERED, occurred_at=start,
                                    payload={"user_id": "op-2", "email": "op2@wwc.org", "role": "operator"}))
        async with db.sessionmaker() as session:
            assert await operations.zone_of(session, "op-1") == "America/Mexico_City"  # the latest
            assert await operations.zone_of(session, "op-2") is None  # never chosen: UTC, named
            assert await operations.zone_of(session, "nobody") is None

"""Existing rows get ISO 3166-2 codes: each service that keeps a state (intake's cities,
audit's cases, cities and conflicts, reporting's cities) migrates its rows from the spelling
they were typed in to the code, on SQLite and PostgreSQL. What names no subdivision of its
country is left as it was and reported; so is a row the code would make a duplicate."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, String, column, insert, select, table, text

from devtools.harness import PG_URL
from shared.infra import migrations
from shared.infra.db import Database

BEFORE = {"intake": "3e8d2c5a7f10", "audit": "975e7b26f1dd", "reporting": "7c1f0e2b9a41"}
LEGACY = [("IL", "US", "US-IL"), ("Illinois", "US", "US-IL"), ("Ontario", "CA", "CA-ON"), ("ON", "CA", "CA-ON"),
          ("Québec", "CA", "CA-QC"), ("SP", "BR", "BR-SP"), ("US-NY", "US", "US-NY"), ("", "BM", ""),
          ("Atlantis", "US", "Atlantis")]


async def database_before(service: str, backend: str, tmp_path) -> Database:
    db = Database(PG_URL, f"t{uuid.uuid4().hex[:8]}_{service}") if backend == "postgres" else \
        Database(f"sqlite+aiosqlite:///{tmp_path / (service + '.db')}")
    await migrations.upgrade(db, service, BEFORE[service])
    return db


async def drop(db: Database, backend: str) -> None:
    if backend == "postgres":
        async with db.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
    await db.dispose()


def left_as_is(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wwc.migrations"]


async def test_intake_cities_get_codes_and_unknown_or_clashing_ones_are_reported(backend, tmp_path, caplog):
    from services.intake.models import City

    db = await database_before("intake", backend, tmp_path)
    try:
        async with db.engine.begin() as conn:
            for i, (state, country, _) in enumerate(LEGACY):
                await conn.execute(insert(City).values(id=f"c{i}", name=f"City {i}", state=state, country=country,
                                                       population=100_000, contact_email=f"c{i}@x.gov"))
            # "Springfield, IL" and "Springfield, Illinois": one code would make them one place.
            for i, state in enumerate(("IL", "Illinois")):
                await conn.execute(insert(City).values(id=f"s{i}", name="Springfield", state=state, country="US",
                                                       population=116_250, contact_email=f"s{i}@x.gov"))
        with caplog.at_level(logging.WARNING, logger="wwc.migrations"):
            await migrations.upgrade(db, "intake")
        async with db.engine.connect() as conn:
            stored = dict((await conn.execute(select(City.id, City.state))).all())
        assert [stored[f"c{i}"] for i in range(len(LEGACY))] == [code for _, _, code in LEGACY]
        assert (stored["s0"], stored["s1"]) == ("US-IL", "Illinois")
        reported = left_as_is(caplog)
        assert len(reported) == 2
        assert "row=c8" in reported[0] and "'Atlantis'" in reported[0] and "why=unknown" in reported[0]
        assert "row=s1" in reported[1] and "why=duplicate" in reported[1]
    finally:
        await drop(db, backend)


# audit's review_cases as the places migration finds it.
CASES_BEFORE = table("review_cases", *(column(name, type_) for name, type_ in (
    ("id", String), ("submission_id", String), ("city_name", String), ("state", String), ("country", String),
    ("cycle", String), ("catalog_version", String), ("status", String), ("submission", JSON),
    ("submitted_responses", JSON), ("audited_responses", JSON), ("corrections", Integer),
    ("opened_at", DateTime(timezone=True)), ("version", Integer))))


async def test_audit_cases_cities_and_conflicts_get_codes(backend, tmp_path, caplog):
    from services.audit.models import City, Conflict, ReviewCase

    db = await database_before("audit", backend, tmp_path)
    try:
        async with db.engine.begin() as conn:
            for i, (state, country, _) in enumerate(LEGACY):
                # Only the columns the table had before this migration (later ones add more).
                await conn.execute(insert(CASES_BEFORE).values(
                    id=f"k{i}", submission_id=f"s{i}", city_name="", state=state, country=country, cycle="",
                    catalog_version="", status="queued", submission={}, submitted_responses={},
                    audited_responses={}, corrections=0, opened_at=datetime.now(UTC), version=0))
                await conn.execute(insert(City).values(city_id=f"c{i}", name=f"City {i}", state=state,
                                                       country=country))
            await conn.execute(insert(Conflict).values(id="on", auditor_id="ben", scope="state", country="CA",
                                                       state="ON"))
            await conn.execute(insert(Conflict).values(id="mx", auditor_id="ben", scope="country", country="MX"))
        with caplog.at_level(logging.WARNING, logger="wwc.migrations"):
            await migrations.upgrade(db, "audit")
        async with db.engine.connect() as conn:
            cases = dict((await conn.execute(select(ReviewCase.id, ReviewCase.state))).all())
            cities = dict((await conn.execute(select(City.city_id, City.state))).all())
            conflicts = dict((await conn.execute(select(Conflict.id, Conflict.state))).all())
        codes = [code for _, _, code in LEGACY]
        assert [cases[f"k{i}"] for i in range(len(LEGACY))] == codes
        assert [cities[f"c{i}"] for i in range(len(LEGACY))] == codes
        assert conflicts == {"on": "CA-ON", "mx": ""}
        assert sorted(m.split()[1] for m in left_as_is(caplog)) == ["table=cities", "table=review_cases"]
    finally:
        await drop(db, backend)


async def test_reporting_cities_get_codes(backend, tmp_path):
    from services.reporting.models import CityEntry

    db = await database_before("reporting", backend, tmp_path)
    try:
        async with db.engine.begin() as conn:
            for i, (state, country, _) in enumerate(LEGACY):
                await conn.execute(insert(CityEntry).values(city_id=f"c{i}", name=f"City {i}", state=state,
                                                            country=country))
        await migrations.upgrade(db, "reporting")
        async with db.engine.connect() as conn:
            stored = dict((await conn.execute(select(CityEntry.city_id, CityEntry.state))).all())
        assert [stored[f"c{i}"] for i in range(len(LEGACY))] == [code for _, _, code in LEGACY]
    finally:
        await drop(db, backend)

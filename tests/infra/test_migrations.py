"""Every service's migrations build exactly its models (no drift), on both databases,
re-running them is a no-op, and the infra tables every service shares evolve through one
migration source — also on a database made before that source existed, rows kept."""

from __future__ import annotations

import importlib
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from devtools.harness import migrated_database
from shared.infra import migrations
from shared.infra.settings import SERVICES
from shared.infra.tables import infra_metadata, outbox, parked_messages, processed_events


def _diff(connection, metadata) -> list:
    # Alembic knows its own version table only; the infra source's is not drift.
    ctx = MigrationContext.configure(connection, opts={
        "compare_type": True,
        "include_name": lambda name, type_, _: not (type_ == "table" and name == migrations.INFRA_VERSION_TABLE)})
    return compare_metadata(ctx, metadata)


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models(service, backend, tmp_path):
    base = importlib.import_module(f"services.{service}.models").Base
    async with migrated_database(service, backend, tmp_path) as db:
        await migrations.upgrade(db, service)  # again: nothing to do
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(lambda c: _diff(c, [base.metadata, infra_metadata]))
            versions = {
                table: (await conn.execute(text(f"SELECT version_num FROM {table}"))).scalars().all()
                for table in ("alembic_version", migrations.INFRA_VERSION_TABLE)}
    assert diff == [], f"{service}: models and migrations differ; run `wwc db revision {service} -m ...`"
    # One head per source: the service's own and the shared infra tables'.
    assert len(versions["alembic_version"]) == 1 and versions[migrations.INFRA_VERSION_TABLE] == [
        "0004_outbox_claims"]


async def test_a_database_from_before_the_shared_source_keeps_its_rows(backend, tmp_path):
    """Databases made when each service's first migration created the infra tables: the
    shared source adopts the tables as they are and applies its later changes on top."""
    async with migrated_database("audit", backend, tmp_path) as db:
        # Back to how such a database looked: the old tables, no infra version table.
        async with db.engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE {migrations.INFRA_VERSION_TABLE}"))
            await conn.execute(text("DROP TABLE workflow_calls"))
            await conn.run_sync(lambda c: _drop_columns(c, "parked_messages", ["submission_id", "correlation_id"]))
            await conn.run_sync(lambda c: _drop_columns(c, "outbox", ["claimed_by", "claimed_until"]))
            event_id = str(uuid.uuid4())
            await conn.execute(outbox.insert().values(event_id=event_id, subject="wwc.audit.case.opened",
                                                      body={"x": 1}, correlation_id="c1", attempts=0))
            await conn.execute(processed_events.insert().values(consumer="audit-x", event_id=event_id,
                                                                subject="wwc.intake.submission.submitted"))
            await conn.execute(text("INSERT INTO parked_messages (consumer, subject, body, headers, error, deliveries)"
                                    " VALUES ('audit-x', 'wwc.x', '{}', '{}', 'boom', 15)"))

        await migrations.upgrade(db, "audit")

        async with db.engine.connect() as conn:
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("parked_messages")})
            assert {"submission_id", "correlation_id"} <= columns
            outbox_columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("outbox")})
            assert {"claimed_by", "claimed_until"} <= outbox_columns
            assert (await conn.execute(select(outbox.c.event_id))).scalars().all() == [event_id]
            assert (await conn.execute(select(processed_events.c.consumer))).scalars().all() == ["audit-x"]
            parked = (await conn.execute(select(parked_messages))).one()
            assert (parked.error, parked.submission_id) == ("boom", None)
            audit = importlib.import_module("services.audit.models").Base.metadata
            diff = await conn.run_sync(lambda c: _diff(c, [audit, infra_metadata]))
        assert diff == []


def _drop_columns(connection, table: str, columns: list[str]) -> None:
    from alembic.operations import Operations

    ops = Operations(MigrationContext.configure(connection))
    with ops.batch_alter_table(table) as batch:
        if "ix_parked_messages_submission_id" in {i["name"] for i in inspect(connection).get_indexes(table)}:
            batch.drop_index("ix_parked_messages_submission_id")
        for column in columns:
            batch.drop_column(column)

"""Every service's migrations build exactly its models (no drift), on both databases,
and re-running them is a no-op."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.infra import migrations
from shared.infra.settings import SERVICES
from shared.infra.tables import infra_metadata
from devtools.harness import migrated_database


def _diff(connection, metadata) -> list:
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(ctx, metadata)


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models(service, backend, tmp_path):
    import importlib

    base = importlib.import_module(f"services.{service}.models").Base
    async with migrated_database(service, backend, tmp_path) as db:
        await migrations.upgrade(db, service)  # again: nothing to do
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(lambda c: _diff(c, [base.metadata, infra_metadata]))
    assert diff == [], f"{service}: models and migrations differ; run `wwc db revision {service} -m ...`"

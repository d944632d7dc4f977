"""Small ORM helpers every service's models use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime; use shared.infra.orm.utcnow()")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def dialect_insert(session):
    """The INSERT construct with ON CONFLICT support for the session's backend."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def insert_if_absent(session, model, **values) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL): True when inserted.

    For rows that two requests, consumers or activities may create at once (a snapshot,
    a draft, a review case): the loser finds the row instead of failing, and no savepoint
    is needed (SQLite's driver does not nest them safely)."""
    result = await session.execute(dialect_insert(session)(model).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1

"""Async SQLAlchemy engine and session factory for one service's own database.

SQLite (a file under var/) is the local default; PostgreSQL is chosen by URL, with the
service's tables in its own schema so services never share tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the outbox relay read while a request writes; busy_timeout waits for locks
    # instead of failing with "database is locked".
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    def __init__(self, url: str, schema: str | None = None, *, echo: bool = False, pool_size: int = 10,
                 max_overflow: int = 10, pool_timeout: float = 10.0) -> None:
        self.url = make_url(url)
        self.schema = schema
        kwargs: dict = {"echo": echo, "pool_pre_ping": True}
        if self.url.database not in (None, "", ":memory:"):  # an in-memory SQLite has one connection
            kwargs |= {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        elif schema:
            kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def ensure_schema(self) -> None:
        if self.schema and not self.is_sqlite:
            # search_path names a schema that may not exist yet; create it without one.
            engine = create_async_engine(self.url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            finally:
                await engine.dispose()

    async def dispose(self) -> None:
        await self.engine.dispose()

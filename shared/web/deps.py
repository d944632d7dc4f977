"""Typed FastAPI dependencies every service uses: `Runtime` (the service's clients) and
`Session` (a database session for reads; writes open their own unit of work)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.runtime import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    async with runtime.db.sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]

"""Reporting listens to every event of the programme: the ledger and its read models."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import ledger
from shared.contracts.events import Envelope


async def on_any_event(session: AsyncSession, envelope: Envelope) -> None:
    await ledger.record(session, envelope)

"""Scoring keeps benchmark aggregates current from score.computed events, and cuts a
release of the cycle's benchmarks when one is due."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import Envelope, ScoreComputed
from services.scoring import benchmark_releases, benchmark_store


async def on_score_computed(session: AsyncSession, envelope: Envelope) -> None:
    payload = envelope.payload_as(ScoreComputed)
    if await benchmark_store.apply_score(session, payload, payload.computed_at or envelope.occurred_at):
        await benchmark_releases.cut_if_due(session, payload.cycle)

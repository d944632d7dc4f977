"""Scoring keeps benchmark aggregates current from score.computed events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import Envelope, ScoreComputed
from services.scoring import benchmark_store


async def on_score_computed(session: AsyncSession, envelope: Envelope) -> None:
    payload = envelope.payload_as(ScoreComputed)
    await benchmark_store.apply_score(session, payload, payload.computed_at or envelope.occurred_at)

"""Benchmark aggregates in scoring's database (filled in with the benchmark issue work).

For the walking skeleton this records each city's latest score per cycle so the
aggregates can be rebuilt; the incremental aggregate tables build on it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import ScoreComputed


async def apply_score(session: AsyncSession, score: ScoreComputed) -> None:
    return None

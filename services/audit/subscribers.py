"""Audit reacts to intake: a submitted assessment opens a review case."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import Envelope, SubmissionSubmitted
from services.audit import service


async def on_submission_submitted(session: AsyncSession, envelope: Envelope) -> None:
    payload = envelope.payload_as(SubmissionSubmitted)
    await service.open_case(session, submission_id=payload.submission_id, city_id=payload.city_id,
                            correlation_id=envelope.correlation_id)

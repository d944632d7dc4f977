"""Reporting keeps the operator pipeline view live from intake's events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import Envelope, StatusChanged, SubmissionSubmitted
from services.reporting import service


async def on_submission_submitted(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(SubmissionSubmitted)
    await service.track(session, submission_id=p.submission_id, city_id=p.city_id, status="submitted",
                        at=envelope.occurred_at)


async def on_status_changed(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(StatusChanged)
    await service.track(session, submission_id=p.submission_id, city_id=envelope.city_id,
                        status=p.status, detail=p.detail, at=envelope.occurred_at)

"""What intake knows of each submission's progress, kept in its own tables so that its
pages and API never ask the workflow engine (a Temporal outage does not take the portal
down with it).

Each fact has one owner and arrives from it: the stages from the workflow itself (its
`intake.record_status` activity), the score from scoring, the report from reporting, the
debrief from notify, clarification requests from audit (audit owns the rounds); the
events are turned into these records by `subscribers.py`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from certification.contract import StageEntry
from services.intake.models import ClarificationRequest, Submission


class ScoreRead(BaseModel):
    met: int
    total: int
    percent: int
    tier: str | None = None


def stages_of(sub: Submission) -> list[StageEntry]:
    return [StageEntry.model_validate(e) for e in sub.stages or []]


def add_stage(sub: Submission, stage: str, at: datetime, detail: str = "") -> None:
    """Record a stage the workflow entered (a retried activity records it once)."""
    entry = {"stage": stage, "at": at.isoformat(), "detail": detail}
    known = list(sub.stages or [])
    if not any(e["stage"] == stage and e["at"] == entry["at"] for e in known):
        sub.stages = [*known, entry]


def score_of(sub: Submission) -> ScoreRead | None:
    return ScoreRead.model_validate(sub.score) if sub.score else None


async def requests_of(session: AsyncSession, submission_id: str) -> list[ClarificationRequest]:
    return list((await session.scalars(select(ClarificationRequest).where(
        ClarificationRequest.submission_id == submission_id).order_by(ClarificationRequest.requested_at))).all())

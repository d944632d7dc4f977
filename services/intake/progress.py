"""What intake knows of each submission's progress, kept in its own tables so that its
pages and API never ask the workflow engine (a Temporal outage does not take the portal
down with it).

Each fact has one owner and arrives from it: the stages from the workflow itself (its
`intake.record_status` activity), the score from scoring, the report from reporting, the
debrief from notify, clarification requests and the audited result from audit (audit owns
the rounds and the review); the
events are turned into these records by `subscribers.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from certification.contract import StageEntry
from services.intake.models import Assessment, ClarificationRequest, Submission
from shared.contracts.events import ReviewCompleted
from shared.contracts.vocabulary import Answer


class ScoreRead(BaseModel):
    met: int
    total: int
    percent: int
    tier: str | None = None


class AuditedLine(BaseModel):
    """One criterion as the audit left it, beside what the city submitted."""

    criterion: str
    submitted: Answer | None
    audited: Answer
    changed: bool
    reason_code: str = ""
    explanation: str = ""
    what_would_satisfy: str = ""


def audited_record(p: ReviewCompleted) -> dict:
    return {"final": {c: a.value for c, a in p.final_responses.items()},
            "changes": {c.criterion: c.model_dump(mode="json") for c in p.changes},
            "approved_at": p.approved_at.isoformat() if p.approved_at else None}


def audited_of(sub: Submission | None) -> dict[str, AuditedLine]:
    """Every criterion's audited result, once the review is approved (else empty)."""
    if sub is None or not sub.audit:
        return {}
    submitted = sub.frozen.get("responses", {}) if isinstance(sub.frozen, dict) else {}
    out = {}
    for criterion, audited in sub.audit.get("final", {}).items():
        change = sub.audit.get("changes", {}).get(criterion)
        given = _answer(submitted.get(criterion))
        out[criterion] = AuditedLine(
            criterion=criterion, submitted=_answer(change["from_response"]) if change else given,
            audited=Answer(audited), changed=change is not None,
            reason_code=(change or {}).get("reason_code", ""), explanation=(change or {}).get("explanation", ""),
            what_would_satisfy=(change or {}).get("what_would_satisfy", "") or "")
    return out


def _answer(value) -> Answer | None:
    if isinstance(value, dict):  # a frozen response: {"response": ..., "narrative": ...}
        value = value.get("response")
    try:
        return Answer(value) if value else None
    except ValueError:
        return None


async def submission_of(session: AsyncSession, assessment: Assessment) -> Submission | None:
    return await session.scalar(select(Submission).where(Submission.assessment_id == assessment.id))


def stages_of(sub: Submission) -> list[StageEntry]:
    return [StageEntry.model_validate(e) for e in sub.stages or []]


def add_stage(sub: Submission, stage: str, at: datetime, detail: str = "") -> None:
    """Record a stage the workflow entered (a retried activity records it once)."""
    entry = {"stage": stage, "at": at.isoformat(), "detail": detail}
    known = list(sub.stages or [])
    if not any(e["stage"] == stage and e["at"] == entry["at"] for e in known):
        sub.stages = [*known, entry]


def completed_at(sub: Submission) -> datetime | None:
    """When the certification first completed (an appeal completes it again later)."""
    for e in stages_of(sub):
        if e.stage == "completed":
            return e.at
    return None


def appeal_open_until(sub: Submission) -> datetime | None:
    """The end of the appeal window: completion plus the submission's window (None before
    completion, or when the programme takes no appeals)."""
    days = sub.appeal_window_days if sub.appeal_window_days is not None else 30
    done = completed_at(sub)
    return done + timedelta(days=days) if done is not None and days > 0 else None


def score_of(sub: Submission) -> ScoreRead | None:
    return ScoreRead.model_validate(sub.score) if sub.score else None


async def requests_of(session: AsyncSession, submission_id: str) -> list[ClarificationRequest]:
    return list((await session.scalars(select(ClarificationRequest).where(
        ClarificationRequest.submission_id == submission_id).order_by(ClarificationRequest.requested_at))).all())

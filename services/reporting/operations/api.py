"""The operators' JSON API (the console's and `wwc ops`'s source): the pipeline by stage
and cycle, what waits longest and for whom, breaches, failing steps, parked messages of
every service with replay, mail failures, a submission's timeline, certifications by
search attribute. Operators only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from certification.contract import Stage, TaskQueue, WaitingFor
from services.reporting.operations import service as operations
from services.reporting.errors import NoFailedStep
from services.reporting.models import PipelineEntry
from services.reporting.problems import problems
from shared.errors import InvalidInput, Unavailable
from shared.infra.auth import Principal, Role, require_roles
from shared.infra.temporal import task_queue
from shared.web.deps import Runtime, Session

router = APIRouter(prefix="/api/v1/ops", tags=["operations"])
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]

_AGE = re.compile(r"^(\d{1,5})([dhm])$")


def parse_age(text: str) -> timedelta:
    """`7d`, `36h`, `90m`: how long something has waited."""
    match = _AGE.match(text.strip())
    if not match:
        raise InvalidInput("an age is a number and d, h or m, e.g. 7d", field="older_than",
                           reason="expected a number followed by d, h or m (e.g. 7d)")
    amount, unit = int(match[1]), match[2]
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})


def engine(runtime) -> operations.Engine:
    """One per service process (it caches Temporal's answers for a few seconds)."""
    if runtime.temporal_client is None:
        raise Unavailable("the workflow engine is not reachable yet")
    existing = getattr(runtime, "ops_engine", None)
    if existing is None:
        existing = runtime.ops_engine = operations.Engine(
            runtime.temporal_client, task_queue(runtime.settings.temporal, TaskQueue.INTAKE))
    return existing


# --- shapes ------------------------------------------------------------------------------------


class StageCount(BaseModel):
    cycle: str
    stage: str
    count: int


class Certification(BaseModel):
    """One submission as the pipeline knows it."""

    submission_id: str
    city_id: str | None
    city_name: str
    cycle: str
    region: str | None
    stage: Stage
    stage_since: datetime
    waiting_for: WaitingFor
    detail: str
    auditor_id: str | None
    auditor_name: str | None = None
    # The review's due date (set only while the review runs: in review or clarification).
    due_at: datetime | None
    overdue: bool
    failing: str
    failing_step: str = ""  # the activity's name, while `waiting_for` is an operator
    tier: str | None
    percent: int | None
    report_id: str | None

    @classmethod
    def of(cls, e: PipelineEntry, names: dict[str, str] | None = None) -> Certification:
        found = cls.model_validate(e, from_attributes=True)
        found.auditor_name = (names or {}).get(e.auditor_id or "")
        if e.stage not in operations.UNDER_REVIEW:
            found.due_at = None
        return found


async def certifications(session, rows: list[PipelineEntry]) -> list[Certification]:
    names = await operations.people(session, {r.auditor_id for r in rows if r.auditor_id})
    return [Certification.of(r, names) for r in rows]


class AppealRead(BaseModel):
    """A certification in appeal (open) or appealed (decided)."""

    submission_id: str
    city_id: str | None
    city_name: str
    cycle: str
    status: str  # open | decided
    stage: str
    waiting_for: str
    filed_at: datetime | None
    due_at: datetime | None  # when the appeal's decision is due, as its events say
    overdue: bool
    decided_at: datetime | None
    overturned: int | None
    upheld: int | None
    criteria: list[str]
    report_version: int
    report_id: str | None
    tier: str | None


class EngineProblem(BaseModel):
    workflow_id: str
    submission_id: str
    kind: str
    detail: str
    attempts: int


class Failing(BaseModel):
    steps: list[Certification]
    engine: list[EngineProblem]


class ParkedMessage(BaseModel):
    notice_id: str
    service: str
    consumer: str
    subject: str
    parked_id: int
    event_id: str | None
    submission_id: str | None
    error: str
    parked_at: datetime
    last_replay: str
    last_replay_at: datetime | None


class ReplayAccepted(BaseModel):
    requested: list[ParkedMessage]
    # An answer recorded after this moment is this request's (see `last_replay_at`).
    requested_at: datetime


class MailFailure(BaseModel):
    at: datetime
    submission_id: str | None
    details: dict


class TimelineEvent(BaseModel):
    at: datetime
    subject: str
    key: str
    actor_id: str | None
    actor: str | None
    params: dict[str, str]
    text: str


class Timeline(BaseModel):
    submission: Certification | None
    events: list[TimelineEvent]


# --- routes ------------------------------------------------------------------------------------


@router.get("/status", response_model=list[StageCount], summary="Submissions per stage and cycle")
async def status(_: Operator, session: Session, cycle: str | None = None) -> list[StageCount]:
    return [StageCount(cycle=c, stage=s, count=n) for c, s, n in await operations.stage_counts(session, cycle)]


@router.get("/waiting", response_model=list[Certification], summary="Open certifications, longest waiting first",
            responses=problems("invalid_input"))
async def waiting(_: Operator, session: Session, older_than: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[Certification]:
    age = parse_age(older_than) if older_than else None
    rows = await operations.waiting(session, older_than=age, now=datetime.now(UTC), limit=limit)
    return await certifications(session, rows)


@router.get("/appeals", response_model=list[AppealRead], summary="Certifications in appeal, and appeals decided",
            description="Open appeals first (the earliest due first), then decided ones (the latest first). "
                        "`status`: open or decided.")
async def appeals(_: Operator, session: Session, status: Annotated[str | None, Query(pattern="^(open|decided)$")] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[AppealRead]:
    rows = await operations.appeals(session, now=datetime.now(UTC), status=status, limit=limit)
    return [AppealRead.model_validate(a, from_attributes=True) for a in rows]


@router.get("/breaches", response_model=list[Certification], summary="Reviews past their due date")
async def breaches(_: Operator, session: Session) -> list[Certification]:
    return await certifications(session, await operations.breaches(session, datetime.now(UTC)))


@router.get("/failing", response_model=Failing, summary="Steps failed on bad data; activities retrying",
            responses=problems("unavailable"))
async def failing(_: Operator, session: Session, runtime: Runtime) -> Failing:
    steps = await certifications(session, await operations.failing(session))
    problems = await engine(runtime).problems()
    return Failing(steps=steps, engine=[EngineProblem.model_validate(p, from_attributes=True) for p in problems])


@router.post("/submissions/{submission_id}/retry-step", status_code=202,
             summary="Run a submission's failed step again (after fixing its cause)",
             responses=problems("not_found", NoFailedStep, "unavailable"))
async def retry_step(submission_id: str, principal: Operator, session: Session, runtime: Runtime) -> dict:
    entry = await operations.entry(session, submission_id)
    if not entry.failing:
        raise NoFailedStep("this submission has no failed step", field="submission_id",
                           reason="no step of this submission is waiting for a retry")
    await operations.retry_step(runtime.db, submission_id, by=principal.sub)
    runtime.wake_relay()
    return {"submission_id": submission_id, "status": "retry requested"}


@router.get("/parked", response_model=list[ParkedMessage], summary="Parked messages of every service")
async def parked(_: Operator, session: Session) -> list[ParkedMessage]:
    return [ParkedMessage.model_validate(p, from_attributes=True) for p in await operations.parked(session)]


@router.post("/parked/{event_id}/replay", status_code=202, response_model=ReplayAccepted,
             summary="Ask the owning service to replay a parked message", responses=problems("not_found"))
async def replay(event_id: str, principal: Operator, runtime: Runtime) -> ReplayAccepted:
    requested_at = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        matches = await operations.request_replay(session, event_id, by=principal.sub)
    runtime.wake_relay()
    return ReplayAccepted(requested=[ParkedMessage.model_validate(p, from_attributes=True) for p in matches],
                          requested_at=requested_at)


@router.get("/mail-failures", response_model=list[MailFailure], summary="Mail that could not be delivered")
async def mail_failures(_: Operator, session: Session) -> list[MailFailure]:
    return [MailFailure(at=r.occurred_at, submission_id=r.submission_id, details=r.payload)
            for r in await operations.mail_failures(session)]


@router.get("/submissions/{submission_id}/timeline", response_model=Timeline, summary="A submission's timeline")
async def timeline(submission_id: str, _: Operator, session: Session) -> Timeline:
    lines, names = await operations.timeline_of(session, submission_id)
    entry = await session.get(PipelineEntry, submission_id)
    return Timeline(
        submission=Certification.of(entry, names) if entry else None,
        events=[TimelineEvent(at=line.at, subject=line.subject, key=line.key, actor_id=line.actor_id,
                              actor=line.actor_name or names.get(line.actor_id or "") or line.actor_id, params=line.params,
                              text=operations.timeline.english(line, names)) for line in lines])


class Gap(BaseModel):
    submission_id: str
    workflow_stage: str
    recorded_stage: str | None
    workflow_is: str


@router.get("/gaps", response_model=list[Gap],
            summary="Certifications whose workflow stage differs from the services' records (after a restore)")
async def gaps(_: Operator, session: Session, runtime: Runtime) -> list[Gap]:
    return [Gap.model_validate(g, from_attributes=True) for g in await operations.gaps(session, engine(runtime))]


class RewindRequest(BaseModel):
    to: datetime  # the time the services' databases were restored to (their backup's)


class Rewound(BaseModel):
    submission_id: str
    action: str
    to_event: int | None


@router.post("/rewind", response_model=list[Rewound],
             summary="After a restore without Temporal: reset workflows to the restored point",
             responses=problems("unavailable"))
async def rewind(body: RewindRequest, principal: Operator, runtime: Runtime) -> list[Rewound]:
    to = body.to if body.to.tzinfo else body.to.replace(tzinfo=UTC)
    done = await operations.rewind(engine(runtime), to, reason=f"restored to {to.isoformat()} by {principal.sub}")
    return [Rewound.model_validate(r, from_attributes=True) for r in done]


@router.get("/workflows", summary="Certifications by search attribute (as in the Temporal UI)")
async def workflows(_: Operator, runtime: Runtime, stage: str | None = None, cycle: str | None = None,
                    city: str | None = None, auditor: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    return await engine(runtime).find(stage=stage, cycle=cycle, city=city, auditor=auditor, limit=limit)

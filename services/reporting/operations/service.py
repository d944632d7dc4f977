"""What operators look at: where every certification is and what it waits for, what is
stuck or past its due date, steps failing or retrying, parked messages of every service,
mail that could not be delivered, and each submission's timeline.

Built from reporting's own read models (the events) and, for what only the workflow engine
knows (an activity retrying, a workflow task failing), from Temporal itself."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus

from certification import gateway
from services.reporting.operations import timeline
from shared.infra.db import Database
from services.reporting.models import LedgerEntry, PipelineEntry, Report
from shared.contracts.events import ReplayRequested, Subject, make_event
from certification.contract import SearchAttributes, Signal, Stage, StepRetry
from shared.errors import NotFound
from shared.infra.outbox import add_event

REFERENCE = re.compile(r"[0-9a-f]{8}")
FINISHED = (Stage.COMPLETED.value, Stage.WITHDRAWN.value)
# The review clock runs in these stages (paused in clarification, but still owed).
UNDER_REVIEW = (Stage.IN_REVIEW.value, Stage.CLARIFICATION.value)


# --- the pipeline -------------------------------------------------------------------------


async def stage_counts(session: AsyncSession, cycle: str | None = None) -> list[tuple[str, str, int]]:
    """(cycle, stage, submissions) for every stage that has any."""
    query = select(PipelineEntry.cycle, PipelineEntry.stage, func.count()).group_by(
        PipelineEntry.cycle, PipelineEntry.stage).order_by(PipelineEntry.cycle.desc(), PipelineEntry.stage)
    if cycle:
        query = query.where(PipelineEntry.cycle == cycle)
    return [(c, s, n) for c, s, n in (await session.execute(query)).all()]


async def waiting(session: AsyncSession, *, older_than: timedelta | None = None, now: datetime,
                  limit: int = 50) -> list[PipelineEntry]:
    """Open certifications, the longest waiting first (time in the current stage)."""
    return await listing(session, now=now, older_than=older_than, limit=limit)


async def listing(session: AsyncSession, *, now: datetime, stage: str | None = None, cycle: str | None = None,
                  older_than: timedelta | None = None, city: str | None = None, auditor: str | None = None,
                  limit: int = 500) -> list[PipelineEntry]:
    """Certifications by stage (open ones when no stage is chosen), cycle, a part of the
    city's name (any case) and the auditor who holds the review or asked for its sign-off,
    longest in their stage first."""
    query = select(PipelineEntry)
    query = query.where(PipelineEntry.stage == stage) if stage else query.where(PipelineEntry.stage.not_in(FINISHED))
    if cycle:
        query = query.where(PipelineEntry.cycle == cycle)
    if city and city.strip():
        by_name = PipelineEntry.city_name.icontains(city.strip(), autoescape=True)
        # The reference a city quotes from its portal ("0635-6B6B": its submission's first 8 hex digits).
        ref = city.strip().replace("-", "").lower()
        query = query.where(by_name | PipelineEntry.submission_id.startswith(ref) if REFERENCE.fullmatch(ref)
                            else by_name)
    if auditor:
        query = query.where((PipelineEntry.auditor_id == auditor) | (PipelineEntry.signoff_by == auditor))
    if older_than is not None:
        query = query.where(PipelineEntry.stage_since <= now - older_than)
    return list((await session.scalars(query.order_by(PipelineEntry.stage_since).limit(limit))).all())


async def breaches(session: AsyncSession, now: datetime) -> list[PipelineEntry]:
    """Reviews past their due date (escalated, or due and not yet escalated)."""
    query = select(PipelineEntry).where(
        PipelineEntry.stage.in_(UNDER_REVIEW),
        (PipelineEntry.overdue.is_(True)) | (PipelineEntry.due_at < now)).order_by(PipelineEntry.due_at)
    return list((await session.scalars(query)).all())


async def failing(session: AsyncSession) -> list[PipelineEntry]:
    query = select(PipelineEntry).where(PipelineEntry.failing != "", PipelineEntry.stage.not_in(FINISHED))
    return list((await session.scalars(query.order_by(PipelineEntry.updated_at))).all())


async def entry(session: AsyncSession, submission_id: str) -> PipelineEntry:
    found = await session.get(PipelineEntry, submission_id)
    if found is None:
        raise NotFound("no such submission", submission_id=submission_id)
    return found


# --- appeals ---------------------------------------------------------------------------------

APPEAL = Stage.APPEAL.value


@dataclass(frozen=True)
class Appeal:
    """A certification whose city appealed, from the events: when it was filed, when its
    decision is due, whether it is decided, and which report version is current."""

    submission_id: str
    city_id: str | None
    city_name: str
    cycle: str
    status: str                  # open | decided
    stage: str
    waiting_for: str
    filed_at: datetime | None
    due_at: datetime | None
    overdue: bool
    decided_at: datetime | None
    overturned: int | None       # None: the decision's event does not say
    upheld: int | None
    criteria: tuple[str, ...]    # the appealed criteria, when the filing's event names them
    report_version: int
    report_id: str | None
    tier: str | None


def _is_appeal(subject: str) -> bool:
    return "appeal" in subject


def _moment(value, default: datetime | None) -> datetime | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return default
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else default


async def appeals(session: AsyncSession, *, now: datetime, status: str | None = None,
                  limit: int = 500) -> list[Appeal]:
    """Every certification in appeal or appealed: open ones first (the earliest due first),
    then decided ones (the latest first). Read from the pipeline (the appeal stage), the
    ledger (stage changes and the appeal's own events) and the reports (their versions)."""
    ids = set((await session.scalars(select(PipelineEntry.submission_id)
                                      .where(PipelineEntry.stage == APPEAL))).all())
    ids |= set((await session.scalars(select(LedgerEntry.submission_id).where(
        LedgerEntry.subject.like("%appeal%"), LedgerEntry.submission_id.is_not(None)).distinct())).all())
    ids |= set((await session.scalars(select(Report.submission_id).where(Report.version > 1).distinct())).all())
    if not ids:
        return []
    entries = {e.submission_id: e for e in (await session.scalars(
        select(PipelineEntry).where(PipelineEntry.submission_id.in_(ids)))).all()}
    events: dict[str, list[LedgerEntry]] = {}
    for row in (await session.scalars(select(LedgerEntry).where(
            LedgerEntry.submission_id.in_(ids),
            (LedgerEntry.subject == Subject.STATUS_CHANGED) | LedgerEntry.subject.like("%appeal%"))
            .order_by(LedgerEntry.occurred_at))).all():
        events.setdefault(row.submission_id, []).append(row)
    versions: dict[str, tuple[int, str]] = {}
    for sid, version, rid in (await session.execute(select(Report.submission_id, Report.version, Report.id)
                                                    .where(Report.submission_id.in_(ids)))).all():
        if sid not in versions or version > versions[sid][0]:
            versions[sid] = (version, rid)
    found = []
    for sid in ids:
        entry = entries.get(sid)
        filed_at = decided_at = due_at = None
        overturned = upheld = None
        criteria: tuple[str, ...] = ()
        for e in events.get(sid, []):
            p = e.payload or {}
            if e.subject == Subject.STATUS_CHANGED:
                if p.get("status") == APPEAL and filed_at is None:
                    filed_at = e.occurred_at
                elif p.get("status") != APPEAL and filed_at is not None and decided_at is None:
                    decided_at = e.occurred_at
                continue
            if e.subject.endswith("filed"):
                filed_at = filed_at or _moment(p.get("filed_at"), e.occurred_at)
                criteria = tuple(timeline.criteria_of(p.get("criteria"))) or criteria
            if "due_at" in p:
                due_at = _moment(p.get("due_at"), due_at)
            if e.subject.endswith("decided"):
                decided_at = _moment(p.get("decided_at"), e.occurred_at)
                outcomes = [str(d.get("outcome", "")) for d in p.get("decisions") or () if isinstance(d, dict)]
                if outcomes:
                    overturned, upheld = outcomes.count("overturned"), outcomes.count("upheld")
        is_open = entry is not None and entry.stage == APPEAL
        if is_open:
            decided_at = None
            filed_at = filed_at or entry.stage_since
        version, report_id = versions.get(sid, (1, entry.report_id if entry else None))
        found.append(Appeal(
            submission_id=sid, city_id=entry.city_id if entry else None, city_name=entry.city_name if entry else "",
            cycle=entry.cycle if entry else "", status="open" if is_open else "decided",
            stage=entry.stage if entry else "", waiting_for=entry.waiting_for if entry else "",
            filed_at=filed_at, due_at=due_at, overdue=bool(is_open and due_at is not None and due_at < now),
            decided_at=decided_at, overturned=overturned, upheld=upheld, criteria=criteria,
            report_version=version, report_id=report_id, tier=entry.tier if entry else None))
    if status:
        found = [a for a in found if a.status == status]
    far = datetime.max.replace(tzinfo=UTC)
    opened = sorted((a for a in found if a.status == "open"), key=lambda a: (a.due_at or far, a.filed_at or far))
    decided = sorted((a for a in found if a.status != "open"),
                     key=lambda a: a.decided_at or a.filed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return [*opened, *decided][:limit]


# --- parked messages and mail ---------------------------------------------------------------


@dataclass(frozen=True)
class Parked:
    notice_id: str          # the id of the message.parked event
    service: str
    consumer: str
    subject: str
    parked_id: int
    event_id: str | None    # the parked message's own event id
    submission_id: str | None
    error: str
    parked_at: datetime
    last_replay: str = ""   # the outcome of a replay that did not clear it
    last_replay_at: datetime | None = None


async def parked(session: AsyncSession) -> list[Parked]:
    """Every service's parked messages not yet replayed successfully, oldest first."""
    notices = (await session.scalars(select(LedgerEntry).where(
        LedgerEntry.subject.like("wwc.%.message.parked")).order_by(LedgerEntry.occurred_at))).all()
    answers = (await session.scalars(select(LedgerEntry).where(
        LedgerEntry.subject.like("wwc.%.message.replayed")).order_by(LedgerEntry.occurred_at))).all()
    outcome: dict[tuple[str, int], LedgerEntry] = {}
    for a in answers:
        outcome[(a.payload["service"], int(a.payload["parked_id"]))] = a
    found = []
    for n in notices:
        p = n.payload
        answered = outcome.get((p["service"], int(p["parked_id"])))
        answer = answered.payload if answered else {}
        if answer and answer["status"] != "failed":
            continue
        found.append(Parked(notice_id=n.event_id, service=p["service"], consumer=p["consumer"], subject=p["subject"],
                            parked_id=int(p["parked_id"]), event_id=p.get("event_id"),
                            submission_id=p.get("submission_id"), error=p.get("error", ""), parked_at=n.occurred_at,
                            last_replay=f"failed: {answer.get('error', '')}" if answer else "",
                            last_replay_at=answered.recorded_at if answered else None))
    return found


async def request_replay(session: AsyncSession, event_id: str, *, by: str, correlation_id: str = "") -> list[Parked]:
    """Ask the owning services to replay the parked message(s) with this id (the parked
    event's own id, or the id of its parked notice). Answered by message.replayed events."""
    matches = [p for p in await parked(session) if event_id in (p.event_id, p.notice_id)]
    if not matches:
        raise NotFound("no parked message has this id", event_id=event_id)
    for p in matches:
        await add_event(session, make_event(
            Subject.REPLAY_REQUESTED, ReplayRequested(service=p.service, parked_id=p.parked_id, requested_by=by),
            submission_id=p.submission_id, correlation_id=correlation_id))
    return matches


async def mail_failures(session: AsyncSession, limit: int = 50) -> list[LedgerEntry]:
    """Parked mail, newest first, less the ones an operator has since sent back."""
    failed = (await session.scalars(select(LedgerEntry).where(LedgerEntry.subject == Subject.MAIL_FAILED)
                                    .order_by(LedgerEntry.occurred_at.desc()))).all()
    retried: dict[str, datetime] = {}
    for r in (await session.scalars(select(LedgerEntry).where(LedgerEntry.subject == Subject.MAIL_RETRIED))).all():
        retried[r.payload["mail_id"]] = max(r.occurred_at, retried.get(r.payload["mail_id"], r.occurred_at))
    still = [f for f in failed if not (f.payload["mail_id"] in retried and retried[f.payload["mail_id"]] > f.occurred_at)]
    return still[:limit]


# --- a submission's timeline ----------------------------------------------------------------


async def timeline_of(session: AsyncSession, submission_id: str) -> tuple[list[timeline.Line], dict[str, str]]:
    """Its events as lines, oldest first, and the names of the people they mention."""
    rows = (await session.scalars(select(LedgerEntry).where(LedgerEntry.submission_id == submission_id)
                                  .order_by(LedgerEntry.occurred_at))).all()
    if not rows:
        raise NotFound("no events for this submission", submission_id=submission_id)
    # Audit's trail checkpoints (one per trail record) are evidence kept for verification,
    # not steps: the report's appendix names the last one.
    rows = [r for r in rows if r.subject != Subject.TRAIL_CHECKPOINTED]
    lines = [timeline.describe(r.subject, r.payload, r.occurred_at) for r in rows]
    return lines, await people(session, {line.actor_id for line in lines if line.actor_id}
                               | {line.params.get("auditor_id", "") for line in lines} - {""})


async def auditors(session: AsyncSession) -> dict[str, str]:
    """Everyone who holds a review or asked for a sign-off in an open certification, by
    name (for the filter)."""
    rows = (await session.execute(select(PipelineEntry.auditor_id, PipelineEntry.signoff_by).where(
        PipelineEntry.stage.not_in(FINISHED)))).all()
    ids = {i for row in rows for i in row if i}
    names = await people(session, ids)
    return dict(sorted(((i, names.get(i, i)) for i in ids), key=lambda kv: kv[1].casefold()))


async def people(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    """user id -> name (or email), from the accounts intake announced."""
    if not ids:
        return {}
    # Only the wanted people's registrations (JSON path, on SQLite and PostgreSQL alike).
    rows = (await session.scalars(select(LedgerEntry).where(
        LedgerEntry.subject == Subject.USER_REGISTERED,
        LedgerEntry.payload["user_id"].as_string().in_(sorted(ids))))).all()
    return {r.payload["user_id"]: r.payload.get("name") or r.payload.get("email", "") for r in rows}


async def zone_of(session: AsyncSession, user_id: str) -> str | None:
    """A staff member's own time zone, as intake last announced their account (None until
    they chose one)."""
    row = await session.scalar(select(LedgerEntry).where(
        LedgerEntry.subject.in_([Subject.USER_REGISTERED, Subject.USER_UPDATED]),
        LedgerEntry.payload["user_id"].as_string() == user_id).order_by(LedgerEntry.occurred_at.desc()).limit(1))
    return (row.payload.get("timezone") or None) if row else None


async def last_change(session: AsyncSession) -> datetime | None:
    """When the ledger last recorded an event: what live pages watch."""
    return await session.scalar(select(func.max(LedgerEntry.recorded_at)))


# --- from the workflow engine ----------------------------------------------------------------


@dataclass(frozen=True)
class EngineProblem:
    workflow_id: str
    submission_id: str
    kind: str        # activity_retrying | workflow_task_failing | failed | terminated | timed_out
    detail: str
    attempts: int = 0


def _submission_of(workflow_id: str) -> str:
    return workflow_id.removeprefix("certification-")


class Engine:
    """Temporal, as operators need it: problems (cached briefly, since each open run is
    described) and certifications found by search attribute."""

    def __init__(self, client: Client, task_queue: str, ttl: float = 5.0) -> None:
        self.client, self.task_queue, self.ttl = client, task_queue, ttl
        self._cached: tuple[float, list[EngineProblem]] | None = None

    def _query(self, *clauses: str) -> str:
        return " AND ".join([f'TaskQueue = "{self.task_queue}"', *clauses])

    async def problems(self, limit: int = 200) -> list[EngineProblem]:
        if self._cached and time.monotonic() - self._cached[0] < self.ttl:
            return self._cached[1]
        found: list[EngineProblem] = []
        async for wf in self.client.list_workflows(self._query('ExecutionStatus = "Running"'), limit=limit):
            desc = await self.client.get_workflow_handle(wf.id, run_id=wf.run_id).describe()
            raw = desc.raw_description
            for act in raw.pending_activities:
                if act.attempt > 1:
                    found.append(EngineProblem(wf.id, _submission_of(wf.id), "activity_retrying",
                                               f"{act.activity_type.name}: {act.last_failure.message}"[:500],
                                               act.attempt))
            task = raw.pending_workflow_task
            if raw.HasField("pending_workflow_task") and task.attempt > 1:
                found.append(EngineProblem(wf.id, _submission_of(wf.id), "workflow_task_failing",
                                           "the workflow's code fails on this run (see its history)", task.attempt))
        ended = {WorkflowExecutionStatus.FAILED: "failed", WorkflowExecutionStatus.TERMINATED: "terminated",
                 WorkflowExecutionStatus.TIMED_OUT: "timed_out"}
        async for wf in self.client.list_workflows(
                self._query('ExecutionStatus IN ("Failed", "Terminated", "TimedOut")'), limit=limit):
            found.append(EngineProblem(wf.id, _submission_of(wf.id), ended.get(wf.status, "failed"),
                                       f"closed {wf.close_time:%Y-%m-%d %H:%M} UTC" if wf.close_time else ""))
        self._cached = (time.monotonic(), found)
        return found

    async def find(self, *, stage: str | None = None, cycle: str | None = None, city: str | None = None,
                   auditor: str | None = None, limit: int = 200) -> list[dict]:
        """Certifications by search attribute, as the Temporal UI would list them."""
        clauses = []
        for key, value in ((SearchAttributes.STAGE, stage), (SearchAttributes.CYCLE, cycle),
                           (SearchAttributes.CITY, city), (SearchAttributes.AUDITOR, auditor)):
            if value:
                clauses.append(f'{key.name} = "{_quoted(value)}"')
        out = []
        async for wf in self.client.list_workflows(self._query(*clauses), limit=limit):
            sa = wf.typed_search_attributes
            due = sa.get(SearchAttributes.DUE_AT)
            out.append({"workflow_id": wf.id, "submission_id": _submission_of(wf.id), "status": wf.status.name,
                        "stage": sa.get(SearchAttributes.STAGE), "cycle": sa.get(SearchAttributes.CYCLE),
                        "city": sa.get(SearchAttributes.CITY), "region": sa.get(SearchAttributes.REGION),
                        "auditor": sa.get(SearchAttributes.AUDITOR), "due_at": due.isoformat() if due else None})
        return out


@dataclass(frozen=True)
class Gap:
    submission_id: str
    workflow_stage: str
    recorded_stage: str | None  # None: the services have no record of it at all
    workflow_is: str            # ahead | behind


async def gaps(session: AsyncSession, engine: Engine, limit: int = 1000) -> list[Gap]:
    """Certifications whose workflow stands at another stage than the services recorded
    (the pipeline, built from their events): after the databases were restored to an older
    point without Temporal, the workflows that moved on. A stage change in progress shows
    here for a second or two; a gap that stays is one (deploy/README.md)."""
    # (A reset leaves its base run terminated; the new run is the one that counts.)
    flows = [f for f in await engine.find(limit=limit) if f["stage"] and f["status"] != "TERMINATED"]
    recorded = dict((await session.execute(select(PipelineEntry.submission_id, PipelineEntry.stage).where(
        PipelineEntry.submission_id.in_([f["submission_id"] for f in flows])))).all())
    order = [s.value for s in Stage]
    out = []
    for f in flows:
        theirs, ours = f["stage"], recorded.get(f["submission_id"])
        if theirs == ours:
            continue
        ahead = ours is None or (theirs in order and ours in order and order.index(theirs) > order.index(ours))
        out.append(Gap(f["submission_id"], theirs, ours, "ahead" if ahead else "behind"))
    return out


@dataclass(frozen=True)
class Rewound:
    submission_id: str
    action: str                  # rewound | terminated
    to_event: int | None = None  # the workflow task it was reset to


async def rewind(engine: Engine, to: datetime, *, reason: str, limit: int = 1000) -> list[Rewound]:
    """After the services' databases were restored to `to` but Temporal was not: every
    workflow with history after `to` is reset to its last workflow task completed by then,
    without the signals it received later (the services forgot sending them; the ones they
    remember are sent again by `wwc db republish --since`). A workflow started after `to`
    belongs to a submission no service remembers: it is terminated. Run once, after the
    restore and before people work again."""
    client, out = engine.client, []
    async for wf in client.list_workflows(engine._query('ExecutionStatus != "Terminated"'), limit=limit):
        handle = client.get_workflow_handle(wf.id, run_id=wf.run_id)
        if wf.start_time > to:
            if wf.status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate(reason=reason)
                out.append(Rewound(_submission_of(wf.id), "terminated"))
            continue
        point, later = None, False
        async for event in handle.fetch_history_events():
            after = event.event_time.ToDatetime(tzinfo=UTC) > to
            later = later or after
            # The last task completed by then (or the first, when none was completed yet).
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and (not after or point is None):
                point = event.event_id
            if later and point is not None:
                break
        if not later or point is None:
            continue
        await client.workflow_service.reset_workflow_execution(ResetWorkflowExecutionRequest(
            namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=wf.id, run_id=wf.run_id),
            reason=reason, workflow_task_finish_event_id=point, request_id=str(uuid.uuid4()),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_NONE))
        out.append(Rewound(_submission_of(wf.id), "rewound", point))
    return out


async def retry_step(db: Database, submission_id: str, *, by: str) -> None:
    """The operator corrected what made a step fail: the workflow runs it again (told after
    commit, certification.gateway)."""
    async with db.transaction() as session:
        await gateway.signal(session, submission_id, Signal.RETRY_STEP, StepRetry(by=by))


def _quoted(value: str) -> str:
    """A value inside a visibility query's double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"')

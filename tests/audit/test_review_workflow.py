"""The certification workflow with audit's real activities (its service running on real
NATS, Temporal and database) and stubs for the other services: the review clock's
reminder and escalation are published as events, a clarification round that expires
returns the case, and only an approved sign-off moves the workflow on to scoring, with
the final responses. Timers run at real lengths (days), reached by fast-forwarding the
workflow's clock (`TimeSkipper`), never by waiting."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import nats
import pytest
from temporalio.testing import TimeSkipper

from shared.contracts.events import Subject
from certification.contract import (
    CERTIFICATION_WORKFLOW,
    CertificationInput,
    CertificationStatus,
    Query,
    Stage,
    TaskQueue,
    certification_workflow_id,
)
from tests.audit.conftest import ANSWERS, decide, submission
from tests.workflow.stubs import Stubs, running_workers
from tests.infra.test_consumer import eventually

REMIND_BEFORE = timedelta(days=2)
SLA = timedelta(days=21)


@pytest.fixture
async def world(audit):
    client = audit.runtime.temporal_client
    prefix = audit.runtime.settings.temporal.task_queue_prefix
    others = Stubs()  # intake's, scoring's, reporting's and notify's activities; audit's are real
    async with running_workers(client, prefix, others, without=(TaskQueue.AUDIT,)):
        await audit.auditor("ana", "Ana Auditor")
        await audit.auditor("ben", "Ben Auditor")
        yield audit, client, prefix, others


async def start(client, prefix: str):
    sid = uuid.uuid4().hex
    inp = CertificationInput(submission_id=sid, correlation_id=sid, submission=submission(), review_mode="auditor",
                             task_queue_prefix=prefix)
    handle = await client.start_workflow(CERTIFICATION_WORKFLOW, inp, id=certification_workflow_id(sid),
                                         task_queue=f"{prefix}intake", result_type=CertificationStatus)
    return sid, handle


async def stage(handle, *stages: Stage) -> CertificationStatus:
    async def reached():
        s = await handle.query(Query.STATUS, result_type=CertificationStatus)
        return s if s.stage in stages else None

    return await eventually(reached, timeout=30, interval=0.1)


async def on_nats(audit, subject: str) -> dict:
    """The last event on `subject` in the WWC stream (published by audit's outbox relay)."""
    nc = await nats.connect(audit.stack.infra.nats_url)
    try:
        js = nc.jetstream()

        async def published():
            try:
                return await js.get_last_msg("WWC", subject)
            except nats.js.errors.NotFoundError:
                return None

        msg = await eventually(published, timeout=20, interval=0.1)
        return json.loads(msg.data)
    finally:
        await nc.close()


async def approve(audit, sid: str) -> str:
    """Ana submits the review, Ben approves it; the decisions hash approved."""
    async with audit.client("ana") as ana, audit.client("ben") as ben:
        assert (await ana.post(f"/api/v1/cases/{sid}/decisions/confirm-remaining")).status_code == 200
        r = await ana.post(f"/api/v1/cases/{sid}/signoff/request")
        assert r.status_code == 200, r.text
        digest = r.json()["decisions_hash"]
        r = await ben.post(f"/api/v1/cases/{sid}/signoff/approve", json={"decisions_hash": digest})
        assert r.status_code == 200, r.text
    return digest


async def test_the_holder_is_reminded_before_the_due_date_and_operators_after_it(world):
    audit, client, prefix, others = world
    sid, handle = await start(client, prefix)
    s = await stage(handle, Stage.IN_REVIEW)
    case = await audit.case(sid)
    assert s.review_case_id == case.id and s.review_due_at == case.due_at
    assert case.due_at - case.opened_at == SLA and case.received_at is not None
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200

    skipper = TimeSkipper(client)
    assert await skipper.fast_forward(handle, SLA - REMIND_BEFORE - timedelta(hours=1))
    assert await audit.events(Subject.REVIEW_DUE_SOON, sid) == []  # two days and an hour before: nothing yet
    assert await skipper.fast_forward(handle, timedelta(hours=2))
    [soon] = await eventually(lambda: audit.events(Subject.REVIEW_DUE_SOON, sid), timeout=20)
    assert soon["auditor_id"] == "ana" and datetime.fromisoformat(soon["due_at"]) == case.due_at
    published = await on_nats(audit, Subject.REVIEW_DUE_SOON)
    assert published["submission_id"] == sid and published["payload"]["auditor_id"] == "ana"

    assert await skipper.fast_forward(handle, REMIND_BEFORE)
    [overdue] = await eventually(lambda: audit.events(Subject.REVIEW_OVERDUE, sid), timeout=20)
    assert overdue["auditor_id"] == "ana" and datetime.fromisoformat(overdue["due_at"]) == case.due_at
    assert (await on_nats(audit, Subject.REVIEW_OVERDUE))["payload"]["case_id"] == case.id
    assert await skipper.fast_forward(handle, timedelta(days=5))
    assert len(await audit.events(Subject.REVIEW_DUE_SOON, sid)) == 1  # each once
    assert len(await audit.events(Subject.REVIEW_OVERDUE, sid)) == 1
    async with audit.client("ana") as ana:
        actions = [r["action"] for r in (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["records"]]
    assert "review.reminded" in actions and "review.escalated" in actions

    await approve(audit, sid)
    await stage(handle, Stage.DEBRIEF, Stage.REPORTING)
    assert others.scored == [ANSWERS]


async def test_an_expired_round_returns_the_case_and_the_approved_review_moves_on(world):
    audit, client, prefix, others = world
    sid, handle = await start(client, prefix)
    await stage(handle, Stage.IN_REVIEW)
    due_before = (await audit.case(sid)).due_at
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/claim")).status_code == 200
        r = await decide(ana, sid, "DG1", "IN_PROGRESS", reason="documents_not_submitted",
                         explanation="The requested documents were not submitted for review.",
                         satisfy="The data inventory.")
        assert r.status_code == 200, r.text
        r = await ana.post(f"/api/v1/cases/{sid}/clarifications", json={
            "criteria": ["DG1"], "message": "Please send the data inventory.",
            "due_at": (datetime.now(UTC) + timedelta(days=10)).isoformat()})
        assert r.status_code == 201, r.text
        request_id = r.json()["id"]
    s = await stage(handle, Stage.CLARIFICATION)
    assert [c.request_id for c in s.open_clarifications] == [request_id]
    # A decision made now does not reach the workflow: only an approved sign-off does.
    async with audit.client("ana") as ana:
        assert (await ana.post(f"/api/v1/cases/{sid}/signoff/request")).json()["code"] == "round_open"

    assert await TimeSkipper(client).fast_forward(handle, timedelta(days=11))
    s = await stage(handle, Stage.IN_REVIEW)
    assert s.expired_clarifications == [request_id]

    async def returned():
        case = await audit.case(sid)
        return case if case.status == "in_review" and case.due_at != due_before else None

    case = await eventually(returned, timeout=20)
    assert timedelta(days=10) < case.due_at - due_before < timedelta(days=11, hours=1)  # the clock stopped
    async with audit.client("ana") as ana:
        [round_] = (await ana.get(f"/api/v1/cases/{sid}/clarifications")).json()
        assert round_["status"] == "expired" and round_["answers"] == {}
        actions = [r["action"] for r in (await ana.get(f"/api/v1/cases/{sid}/trail")).json()["records"]]
    assert actions[-2:] == ["round.expired", "case.due_moved"] or actions[-2:] == ["case.due_moved", "round.expired"]

    assert others.scored == []
    await approve(audit, sid)
    await stage(handle, Stage.DEBRIEF, Stage.REPORTING)
    assert others.scored == [{**ANSWERS, "DG1": "IN_PROGRESS"}]

"""End to end through the HTTP API: a city submits, two auditors review and sign off
through audit's API, the CertificationWorkflow calls an activity on every service's task
queue, the city declines its debrief through notify's API, each service writes its row,
every event is consumed exactly once and every call to the workflow is delivered once.
Real NATS, Temporal, S3, SMTP and database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from devtools import actors
from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject
from shared.infra.tables import outbox, processed_events, workflow_calls
from shared.scoring.engine import score
from tests.infra.test_consumer import eventually

pytestmark = pytest.mark.slow

CITY = {"name": "Riverton", "state": "IL", "country": "US", "population": 112_000,
        "contact_name": "Dana Cruz", "contact_email": "dana@riverton.gov", "password": "correct-horse-battery"}


def demo_responses(yes: int) -> dict:
    catalog = load_catalog("wwc-2019")
    out = {}
    for i, crit in enumerate(catalog.criteria):
        answer = "YES" if i < yes else ("IN_PROGRESS" if i % 2 else "NO")
        out[crit.id] = {"response": answer, "narrative": f"narrative for {crit.id}",
                        "links": [f"https://data.riverton.gov/{crit.id}"] if answer == "YES" else []}
    return out


# (producer, subject, consuming service, durable consumer): every subscription in the system.
CONSUMERS = [
    ("intake", Subject.SUBMISSION_SUBMITTED, "audit", "audit-intake-submission-submitted"),
    ("intake", Subject.SUBMISSION_SUBMITTED, "reporting", "reporting-ledger"),  # the ledger hears every event
    ("intake", Subject.SUBMISSION_SUBMITTED, "notify", "notify-intake-submission-submitted"),
    ("intake", Subject.SUBMISSION_SUBMITTED, "notify", "notify-contacts"),
    ("intake", Subject.STATUS_CHANGED, "reporting", "reporting-ledger"),
    ("audit", Subject.CASE_ASSIGNED, "notify", "notify-audit-case-assigned"),
    ("audit", Subject.REVIEW_COMPLETED, "reporting", "reporting-ledger"),
    ("audit", Subject.REVIEW_COMPLETED, "notify", "notify-audit-review-completed"),
    ("scoring", Subject.SCORE_COMPUTED, "reporting", "reporting-ledger"),
    ("scoring", Subject.SCORE_COMPUTED, "scoring", "scoring-benchmarks"),
    ("scoring", Subject.SCORE_COMPUTED, "intake", "intake-scoring-score-computed"),
    ("reporting", Subject.REPORT_READY, "notify", "notify-reporting-report-ready"),
    ("reporting", Subject.REPORT_READY, "intake", "intake-reporting-report-ready"),
    ("notify", Subject.DEBRIEF_OFFERED, "intake", "intake-debrief"),
    ("notify", Subject.DEBRIEF_COMPLETED, "intake", "intake-debrief"),
]


async def assert_each_workflow_call_delivered_once(rt: dict, timeout: float = 30) -> None:
    """What each service told the workflows (starts and signals) was delivered, once each."""
    for name, runtime in rt.items():
        async def delivered(runtime=runtime):
            async with runtime.db.sessionmaker() as session:
                calls = (await session.execute(select(workflow_calls))).all()
            return [calls] if all(c.delivered_at is not None for c in calls) else None

        [calls] = await eventually(delivered, timeout=timeout)
        assert all(c.outcome in ("delivered", "not_running") for c in calls), (name, calls)
        assert len({c.id for c in calls}) == len(calls)


async def assert_each_event_consumed_once(rt: dict, timeout: float = 20) -> None:
    """Each consumer has processed every event its producer published, each exactly once."""
    for producer, subject, consumer_service, consumer in CONSUMERS:
        sent = await published(rt[producer], subject)
        assert sent, f"{producer} published no {subject}"

        async def all_consumed(consumer_service=consumer_service, consumer=consumer, sent=sent):
            got = await consumed(rt[consumer_service], consumer)
            return got if sent <= set(got) else None

        # (A consumer of several subjects, like reporting's ledger, has processed others too.)
        got = await eventually(all_consumed, timeout=timeout)
        assert len(got) == len(set(got)), f"{consumer} processed an event twice"


async def rows(runtime, model) -> list:
    async with runtime.db.sessionmaker() as session:
        return list((await session.scalars(select(model))).all())


async def published(runtime, subject: str) -> set[str]:
    async with runtime.db.sessionmaker() as session:
        res = await session.execute(select(outbox.c.event_id).where(outbox.c.subject == subject))
        return {r.event_id for r in res}


async def consumed(runtime, consumer: str) -> list[str]:
    async with runtime.db.sessionmaker() as session:
        res = await session.execute(select(processed_events.c.event_id).where(processed_events.c.consumer == consumer))
        return [r.event_id for r in res]


async def test_submission_runs_through_every_service(stack, people, smtp_server):
    intake = stack.client("intake")
    registered = await stack.register_city(CITY)
    city_token = registered["token"]["access_token"]
    city_id = registered["city"]["id"]
    assert registered["city"]["region"] == "Midwest" and registered["city"]["population_band"] == "100K-250K"
    intake.headers["authorization"] = f"Bearer {city_token}"

    snapshot = {q.id: True for q in load_catalog("wwc-2019").snapshot}
    r = await intake.post("/api/v1/snapshots/2026", json={"answers": snapshot})
    assert r.status_code == 201 and r.json()["eligibility"]["eligible"], r.text

    responses = demo_responses(yes=31)
    r = await intake.put("/api/v1/assessments/2026/responses", json={"responses": responses})
    assert r.status_code == 200, r.text
    r = await intake.post("/api/v1/assessments/2026/submit")
    assert r.status_code == 201, r.text
    submission_id = r.json()["id"]
    again = await intake.post("/api/v1/assessments/2026/submit")
    assert again.status_code == 200 and again.json()["id"] == submission_id  # idempotent

    # The auditor changes one YES with a reason; a second auditor signs off.
    change = actors.Change("DG1", "IN_PROGRESS", "documents_not_submitted", "No policy was attached.",
                           "The adopted policy.")
    await people.review(submission_id, [change])
    await people.decline_debrief(city_token, submission_id)

    async def completed():
        body = (await intake.get(f"/api/v1/submissions/{submission_id}")).json()
        return body if body["status"] == "completed" else None

    body = await eventually(completed, timeout=90, interval=0.3)
    final = {k: v["response"] for k, v in responses.items()} | {"DG1": "IN_PROGRESS"}
    expected = score(load_catalog("wwc-2019"), final)
    assert body["score"] == {"met": expected.met, "total": 45, "percent": expected.percent, "tier": expected.tier}
    stages = [h["stage"] for h in body["history"]]
    assert stages == ["submitted", "evidence_check", "in_review", "scoring", "reporting", "debrief", "completed"]
    assert body["debrief_outcome"] == "declined" and body["report_url"]

    # Each service wrote its own row.
    from services.audit.models import ReviewCase
    from services.notify.models import DebriefOffer
    from services.reporting.models import PipelineEntry, Report
    from services.scoring.models import Score

    rt = stack.runtimes
    [case] = await rows(rt["audit"], ReviewCase)
    assert case.submission_id == submission_id and case.status == "completed"
    [scored] = await rows(rt["scoring"], Score)
    assert (scored.met, scored.tier, scored.city_id) == (expected.met, expected.tier, city_id)
    [report] = await rows(rt["reporting"], Report)
    html = (await stack.client("reporting", city_token).get(f"/api/v1/reports/{report.id}/html")).text
    assert f"achieved {expected.met} of 45 criteria" in html
    [offer] = await rows(rt["notify"], DebriefOffer)
    assert offer.email == CITY["contact_email"]

    # Every event is consumed exactly once by each consumer that subscribes to it, and
    # every call to the workflow was delivered once.
    await assert_each_event_consumed_once(rt)
    await assert_each_workflow_call_delivered_once(rt)

    async def pipeline_done():
        entries = await rows(rt["reporting"], PipelineEntry)
        return entries if entries and entries[0].stage == "completed" else None

    await eventually(pipeline_done)
    mails = await eventually(lambda: _mails(rt["notify"], 4))
    to_city = {m.subject for m in mails if m.to == CITY["contact_email"]}
    assert to_city >= {"Your Certification Report is ready", "Your What Works Cities debrief call"}
    assert {m.to for m in mails} == {CITY["contact_email"], "ana@auditors.example.org"}  # the case's holder too


async def _mails(runtime, n: int):
    from services.notify.models import SentMail

    found = await rows(runtime, SentMail)
    return found if len(found) >= n else None


async def test_readyz_reports_each_dependency(stack):
    for name in stack.runtimes:
        r = await stack.client(name).get("/readyz")
        assert r.status_code == 200, (name, r.text)
        checks = r.json()["checks"]
        assert set(checks) >= {"db", "nats", "temporal"}
        assert all(v == "ok" for v in checks.values())
        assert (await stack.client(name).get("/healthz")).json()["status"] == "ok"

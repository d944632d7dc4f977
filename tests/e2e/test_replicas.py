"""The replica + cluster fault suite: two replicas (processes) of every service on one
PostgreSQL database, a three-node NATS JetStream cluster with the stream R3, Temporal and
S3 (devtools.replicas.ReplicaStack). N certifications go through real review (auditors
working through audit's API, each request to either replica) while, one at a time, one
replica of each service is killed with SIGKILL and started again, then one NATS node, then
the node leading the stream; the second test restarts Temporal and S3 mid-flow instead.

Every certification completes; each consumer processed every event exactly once; each
workflow call was delivered once; no mail was sent twice (one row per recipient, kind and
submission; each Message-ID once at the SMTP server); the audit trail verifies against the
checkpoints reporting's ledger kept; nothing is parked. The figures are printed (see
docs/PERFORMANCE.md, Reliability).

N = 50, the issue's number: all 50 are submitted before the first kill, and their cities
decline the debrief only after the last restart, so every one of them is in flight through
every fault (the review, scoring and reports run during the faults).
"""

from __future__ import annotations

import asyncio
import io
import secrets
import time
from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from devtools import devstack
from devtools.actors import Auditor, City, eventually, staff_token
from devtools.replicas import ReplicaStack
from services.audit import cli as audit_cli
from services.audit.domain import Checkpoint
from services.notify.models import Mail
from services.reporting.models import LedgerEntry
from shared.catalog.loader import load_catalog
from shared.contracts.events import Subject
from shared.infra.consumer import list_parked
from shared.infra.settings import SERVICES
from shared.infra.tables import processed_events
from tests.e2e.test_walking_skeleton import (
    assert_each_event_consumed_once,
    assert_each_workflow_call_delivered_once,
)

pytestmark = pytest.mark.slow

N = 50
PREPARE_AT_ONCE = 6  # cities registering and filling in at once (password hashing is CPU)
REVIEWS_AT_ONCE = 4  # the auditors' pace: reviews go on through the faults
PASSWORD = "replica-suite-2026"
CATALOG = load_catalog("wwc-2019")
SNAPSHOT = {q.id: True for q in CATALOG.snapshot}


def answers(i: int) -> dict[str, str]:
    return {c.id: ("YES" if (k + i) % 3 else "IN_PROGRESS") for k, c in enumerate(CATALOG.criteria)}


async def service_faults(stack: ReplicaStack) -> None:
    """One replica of each service, in turn; then a NATS node, then the stream's leader."""
    for i, service in enumerate(SERVICES):
        await stack.crash(service, 1 + i % 2)
    await eventually(stack.stream_current, timeout=60, interval=0.5, what="the stream on three nodes")
    leader = await stack.stream_leader()
    await stack.crash_nats(next(n for n in stack.nats.nodes if n != leader))
    await stack.crash_nats(await stack.stream_leader(), role="stream leader")


async def infra_faults(stack: ReplicaStack) -> None:
    await stack.crash_infra("temporal")
    await stack.crash_infra("s3")


@pytest.fixture
async def replicas(tmp_path):
    stack = await ReplicaStack.start(tmp_path)
    yield stack
    await stack.stop()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("faults", [service_faults, infra_faults], ids=["replicas-and-nats", "temporal-and-s3"])
async def test_certifications_survive_faults_of_replicas_and_clusters(replicas, faults):
    stack = replicas
    for email, name in (("ana@replicas.example", "Ana Ramos"), ("ben@replicas.example", "Ben Okafor")):
        stack.create_staff(email, name, "auditor", PASSWORD)
    ana = Auditor(stack, await staff_token(stack, "ana@replicas.example", PASSWORD))
    ben = Auditor(stack, await staff_token(stack, "ben@replicas.example", PASSWORD))

    prepare, review = asyncio.Semaphore(PREPARE_AT_ONCE), asyncio.Semaphore(REVIEWS_AT_ONCE)
    submitted, faults_over = asyncio.Event(), asyncio.Event()
    cities: list[City] = []
    done_at: dict[int, float] = {}

    not_submitted: list[BaseException] = []
    # Addresses of this run only: the registration throttle's counters are in Redis, which
    # outlives the run (3 registrations an hour per address).
    run = secrets.token_hex(3)

    async def certify(i: int) -> None:
        try:
            async with prepare:
                city = await City.register(stack, name=f"Replica City {i}", email=f"staff-{i}-{run}@replicas.example")
                await city.prepare(answers(i), snapshot=SNAPSHOT)
            await city.submit()
            cities.append(city)
        except BaseException as exc:
            not_submitted.append(exc)
            raise
        finally:  # the faults start once every city has submitted (or failed to)
            if len(cities) + len(not_submitted) == N:
                submitted.set()
        async with review:
            await ana.review(city.submission_id, [], approver=ben)
        await eventually(city.debrief_offered, timeout=600, interval=1, what=f"{city.name}'s debrief offer")
        await faults_over.wait()
        await city.decline_debrief()
        await eventually(lambda: _completed(city), timeout=600, interval=1, what=f"{city.name} completed")
        done_at[i] = time.monotonic()

    async def chaos() -> None:
        await submitted.wait()
        try:
            await faults(stack)
        finally:
            faults_over.set()

    t0 = time.monotonic()
    outcomes = await asyncio.gather(*(certify(i) for i in range(N)), chaos(), return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]

    assert stack.kills, [repr(f) for f in failures]  # the faults did happen
    first_kill, last_kill = stack.kills[0].at, stack.kills[-1].at
    in_flight = len(cities) - sum(1 for t in done_at.values() if t <= first_kill)
    doubled = await _doubled(stack)
    figures = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "in flight": in_flight,
        "killed": ", ".join(k.what for k in stack.kills),
        "completed": len(done_at),
        "lost": N - len(done_at),
        "doubled": doubled,
        "mails delivered": len(devstack.read_mail(stack.infra["smtp"].data_dir)),
        "time to recover (s)": round(max(done_at.values(), default=last_kill) - last_kill, 1),
        "whole run (s)": round(time.monotonic() - t0, 1),
    }
    print(f"\n[replicas] {faults.__name__}: " + "; ".join(f"{k}: {v}" for k, v in figures.items()))
    assert not failures, [repr(f) for f in failures]
    assert len(done_at) == N and in_flight == N

    rt = {s: SimpleNamespace(db=stack.db(s)) for s in SERVICES}
    await assert_each_event_consumed_once(rt, timeout=120)
    await assert_each_workflow_call_delivered_once(rt, timeout=120)
    for service in SERVICES:
        assert await list_parked(stack.db(service)) == [], f"{service} parked messages"
    assert doubled == 0
    await _assert_trail_verifies(stack)


async def _completed(city: City) -> bool:
    return await city.stage() == "completed"


async def _doubled(stack: ReplicaStack) -> int:
    """Effects that happened twice: an event processed twice by one consumer, a mail
    recorded twice for one recipient, kind and submission, or delivered twice to SMTP."""
    twice = 0
    async with stack.db("notify").sessionmaker() as session:
        rows = (await session.execute(select(Mail.to, Mail.kind, Mail.submission_id, func.count())
                                      .group_by(Mail.to, Mail.kind, Mail.submission_id)
                                      .having(func.count() > 1))).all()
        twice += sum(n - 1 for *_, n in rows)
    for service in SERVICES:
        async with stack.db(service).sessionmaker() as session:
            rows = (await session.execute(select(processed_events.c.consumer, processed_events.c.event_id, func.count())
                                          .group_by(processed_events.c.consumer, processed_events.c.event_id)
                                          .having(func.count() > 1))).all()
        twice += sum(n - 1 for *_, n in rows)
    delivered = Counter(m["Message-ID"] for m in devstack.read_mail(stack.infra["smtp"].data_dir))
    twice += sum(n - 1 for n in delivered.values() if n > 1)
    return twice


async def _assert_trail_verifies(stack: ReplicaStack) -> None:
    """`wwc audit verify-trail`'s check, against the checkpoints audit published to the ledger."""
    async with stack.db("reporting").sessionmaker() as session:
        payloads = (await session.scalars(select(LedgerEntry.payload)
                                          .where(LedgerEntry.subject == Subject.TRAIL_CHECKPOINTED))).all()
    checkpoints: dict[str, list[Checkpoint]] = {}
    for p in payloads:
        checkpoints.setdefault(p["chain"], []).append(Checkpoint(seq=int(p["seq"]), head=str(p["head"])))
    out = io.StringIO()
    assert await audit_cli.verify(stack.db("audit"), None, out, checkpoints) == 0, out.getvalue()
    checked = int(out.getvalue().rsplit(" chain(s) checked", 1)[0].split()[-1])
    assert checked >= N, out.getvalue()  # a chain per case at least

"""The restore drill (deploy/README.md, "Backups and restore"): certifications in flight
through real review; mid-cycle, Temporal's database and then every service's database are
backed up online (SQLite's backup API, or `pg_dump --schema` per service); the cycle goes on
(auditors approve, a city declines its debrief); then everything stops, the NATS store is
wiped, the databases are restored and everything starts again after `wwc db republish
--since <backup time>` on each service. A second drill restores the services but not
Temporal: `wwc ops gaps` shows the workflows that moved on, `wwc ops rewind` repairs them.

What the backup did not see is lost and done again (auditors approve again, the city
declines again); nothing the backup saw is lost or doubled: every certification completes,
each consumer processes each event once, no mail is delivered twice (not even one first sent
after the backup, which the restored notify queues again: the object store's markers of mail
sent are not restored with the databases), every trail verifies and nothing is parked. The
figures are printed for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from devtools import devstack
from devtools.harness import PG_URL, Infra, Stack, serve
from services.cli import main as wwc
from services.audit.cli import read_checkpoints, verify as verify_trail
from services.intake.models import Submission
from services.reporting.models import LedgerEntry
from shared.contracts.events import Subject
from services.intake.config import IntakeOptions
from shared.contracts.vocabulary import ReviewMode
from shared.infra.auth import Role
from shared.infra.consumer import list_parked
from shared.infra.db import Database
from shared.infra.restore import backup_sqlite, requeue_since, restore_sqlite
from shared.infra.settings import SERVICES
from shared.infra.tables import workflow_calls
from tests.conftest import S3_KEY, S3_SECRET, token
from tests.e2e.conftest import People
from tests.e2e.test_resilience import all_at, all_completed, patient, ready_city
from tests.e2e.test_walking_skeleton import CONSUMERS, assert_each_event_consumed_once, consumed, published
from tests.infra.test_consumer import eventually

pytestmark = pytest.mark.slow

OPTIONS = {"intake": {"options": IntakeOptions(review_mode=ReviewMode.AUDITOR)}}


class Platform:
    """NATS, Temporal (file-backed), an SMTP sink of its own and the five services on SQLite
    files or PostgreSQL schemas, which can all be stopped and started again on the same
    ports, databases and task queues."""

    def __init__(self, tmp: Path, s3, backend: str) -> None:
        self.tmp, self.backend = tmp, backend
        self.nats_dir, self.temporal_db, self.mail_dir = tmp / "nats", tmp / "temporal" / "temporal.db", tmp / "mail"
        self.nats_port, self.temporal_port = devstack.free_port(), devstack.free_port()
        self.smtp = devstack.start_smtp(devstack.free_port(), self.mail_dir)
        self.infra = Infra(nats_url=f"nats://127.0.0.1:{self.nats_port}",
                           temporal_address=f"127.0.0.1:{self.temporal_port}", s3_endpoint=s3.endpoint,
                           s3_access_key=S3_KEY, s3_secret_key=S3_SECRET, smtp_port=self.smtp.port,
                           mail_dir=self.mail_dir)
        self.nats = self.temporal = None
        self.stack: Stack | None = None
        self.tag: str | None = None

    def db_file(self, service: str) -> Path:
        return self.tmp / f"{service}.db"

    def schema(self, service: str) -> str:
        return f"t{self.tag}_{service}"  # the harness's schema names

    def database(self, service: str) -> Database:
        if self.backend == "postgres":
            return Database(PG_URL, self.schema(service))
        return Database(f"sqlite+aiosqlite:///{self.db_file(service)}")

    async def start(self) -> Stack:
        self.nats = devstack.start_nats(self.nats_port, self.nats_dir)
        self.temporal = devstack.start_temporal(self.temporal_port, db_file=self.temporal_db)
        kwargs = {"tag": self.tag} if self.tag else {}  # the same task queues as before
        self.stack = await Stack(infra=self.infra, backend=self.backend, tmp=self.tmp, build_kwargs=OPTIONS,
                                 **kwargs).start()
        self.tag = self.stack.tag
        patient(self.stack)
        return self.stack

    async def stop(self) -> None:
        if self.stack is not None:
            await self.stack.stop()  # (PostgreSQL: the schemas are dropped too, as in a disaster)
            self.stack = None
        for svc in (self.temporal, self.nats):
            if svc is not None:
                svc.stop()
        self.temporal = self.nats = None

    def close(self) -> None:
        self.smtp.stop()


@pytest.fixture
async def platform(s3_server, tmp_path, backend):
    p = Platform(tmp_path, s3_server, backend)
    try:
        yield p
    finally:
        await p.stop()
        p.close()


def assert_each_mail_delivered_once(mail_dir: Path) -> int:
    """No Message-ID reaches the sink twice; the number of mails delivered."""
    delivered = devstack.read_mail(mail_dir)
    copies = Counter(str(msg["Message-ID"]) for msg in delivered)
    twice = sorted({str(m["Subject"]) for m in delivered if copies[str(m["Message-ID"])] > 1})
    assert not twice, f"delivered twice: {twice}"
    return len(delivered)


PG = ["-h", "127.0.0.1", "-U", "postgres"]
# Reporting before audit: reporting keeps the trail checkpoints audit publishes, and a copy of
# reporting newer than audit's would show audit's chains as rolled back.
BACKUP_ORDER = ("reporting", "intake", "audit", "scoring", "notify")
assert sorted(BACKUP_ORDER) == sorted(SERVICES)


async def backup_all(platform: Platform, target: Path, *, temporal: bool = True) -> None:
    """Temporal first, then the services: a service's database is never older than the
    workflows, so what a workflow did is in the services' records, and what the services
    told the workflows after Temporal's copy is sent again by `requeue_since`. SQLite: the
    online backup API; PostgreSQL: `pg_dump --schema` per service, as deploy/README.md says."""
    if temporal:
        await asyncio.to_thread(backup_sqlite, platform.temporal_db, target / "temporal.db")
    for name in BACKUP_ORDER:
        if platform.backend == "postgres":
            await asyncio.to_thread(subprocess.run, ["pg_dump", *PG, "--format=custom",
                                                     f"--schema={platform.schema(name)}",
                                                     "-f", str(target / f"{name}.dump"), "test"], check=True)
        else:
            await asyncio.to_thread(backup_sqlite, platform.db_file(name), target / f"{name}.db")


def restore_all(platform: Platform, source: Path, *, temporal: bool = True) -> None:
    if temporal:
        restore_sqlite(source / "temporal.db", platform.temporal_db)
    for name in SERVICES:
        if platform.backend == "postgres":
            subprocess.run(["psql", *PG, "-d", "test", "-qc",
                            f'DROP SCHEMA IF EXISTS "{platform.schema(name)}" CASCADE'], check=True)
            subprocess.run(["pg_restore", *PG, "-d", "test", str(source / f"{name}.dump")], check=True)
        else:
            restore_sqlite(source / f"{name}.db", platform.db_file(name))


async def republish_all(platform: Platform, since: datetime) -> dict[str, tuple[int, int]]:
    """What each service's operator runs before starting it: `wwc db republish NAME --since`."""
    out = {}
    for name in SERVICES:
        db = platform.database(name)
        try:
            out[name] = await requeue_since(db, since)
        finally:
            await db.dispose()
    return out


async def published_checkpoints(stack: Stack, path: Path) -> dict:
    """The trail checkpoints reporting's ledger holds, exported as deploy/README.md says."""
    async with stack.runtimes["reporting"].db.sessionmaker() as session:
        payloads = (await session.scalars(select(LedgerEntry.payload).where(
            LedgerEntry.subject == Subject.TRAIL_CHECKPOINTED))).all()
    path.write_text(json.dumps(list(payloads)))
    return read_checkpoints(path)


async def stage_of(stack: Stack, sid: str) -> str:
    async with stack.runtimes["intake"].db.sessionmaker() as session:
        return await session.scalar(select(Submission.status).where(Submission.id == sid))


async def test_restore_from_backup_loses_and_doubles_nothing_the_backup_saw(platform, backend):
    stack = await platform.start()
    people = People(stack, await stack.create_staff("ana@auditors.example.org", "Ana Ramos", Role.AUDITOR),
                    await stack.create_staff("ben@auditors.example.org", "Ben Okafor", Role.AUDITOR))
    cities = [await ready_city(stack, i, "d") for i in range(6)]
    ids: dict[str, str] = {}
    for client, tok in cities[:4]:
        r = await client.post("/api/v1/assessments/2026/submit")
        assert r.status_code == 201, r.text
        ids[r.json()["id"]] = tok
    sids = list(ids)
    offered, waiting = sids[:2], sids[2:4]
    # Before the backup: two certifications reviewed and offered their debrief, two in review.
    await asyncio.gather(*(people.review(sid) for sid in offered))
    await asyncio.gather(*(eventually(people.city(ids[sid], sid).debrief_offered, timeout=300, interval=0.3)
                           for sid in offered))
    await eventually(lambda: all_at(stack, waiting, "in_review"), timeout=300, interval=0.3)
    for client, tok in cities[4:]:  # and two just submitted as the backup starts
        r = await client.post("/api/v1/assessments/2026/submit")
        assert r.status_code == 201, r.text
        ids[r.json()["id"]] = tok
    sids = list(ids)

    backup_started = datetime.now(UTC)
    await backup_all(platform, platform.tmp / "backup")
    stages_at_backup = {sid: await stage_of(stack, sid) for sid in sids}

    # The cycle goes on past the backup: two reviews approved (their workflows move on to
    # scoring, reporting and the debrief offer) and one city declines its debrief.
    await asyncio.gather(*(people.review(sid) for sid in waiting))
    await people.decline_debrief(ids[offered[0]], offered[0])
    await eventually(lambda: all_at(stack, waiting, "debrief"), timeout=300, interval=0.3)
    await eventually(lambda: all_completed(stack, offered[:1]), timeout=180, interval=0.3)
    stages_at_stop = {sid: await stage_of(stack, sid) for sid in sids}
    assert stages_at_stop != stages_at_backup  # the live state is ahead of the backup

    # The disaster and the restore.
    await platform.stop()
    down_at = time.monotonic()
    shutil.rmtree(platform.nats_dir)  # the stream and its consumers are gone
    restore_all(platform, platform.tmp / "backup")
    requeued = await republish_all(platform, backup_started - timedelta(minutes=5))
    stack = await platform.start()
    up_after = time.monotonic() - down_at
    people = People(stack, people.ana.token, people.ben.token)

    # Work done after the backup is done again; the rest goes on from where the backup was.
    await asyncio.gather(*(people.review(sid) for sid in waiting + sids[4:]))
    await asyncio.gather(*(people.decline_debrief(tok, sid) for sid, tok in ids.items()))
    await eventually(lambda: all_completed(stack, sids), timeout=400, interval=0.5)
    recovered = time.monotonic() - down_at

    await assert_each_event_consumed_once(stack.runtimes, timeout=300)
    for name, runtime in stack.runtimes.items():
        async def delivered(runtime=runtime):
            async with runtime.db.sessionmaker() as session:
                calls = (await session.execute(select(workflow_calls))).all()
            return [calls] if all(c.delivered_at is not None for c in calls) else None

        [calls] = await eventually(delivered, timeout=180)
        assert {c.outcome for c in calls} <= {"delivered", "not_running", "already_started"}, name
        assert await list_parked(runtime.db) == [], f"{name} parked messages"
    trail = io.StringIO()  # `wwc audit verify-trail --checkpoints` with reporting's checkpoints
    checkpoints = await published_checkpoints(stack, platform.tmp / "checkpoints.json")
    assert checkpoints
    assert await verify_trail(stack.runtimes["audit"].db, None, trail, checkpoints) == 0, trail.getvalue()

    # Mail: none delivered twice. Mail first sent after the backup is queued again by the
    # restored notify (its ledger forgot it; the outboxes republished its events) and is
    # recorded as sent without sending: its marker in the object store says it went.
    delivered = assert_each_mail_delivered_once(platform.mail_dir)
    recognised = stack.runtimes["notify"].mail_sender.already_sent

    async with stack.runtimes["intake"].db.sessionmaker() as session:
        completed = (await session.scalars(select(Submission.id).where(
            Submission.id.in_(sids), Submission.status == "completed"))).all()
    lost, twice = 0, 0
    for producer, subject, consumer_service, consumer in CONSUMERS:
        got = await consumed(stack.runtimes[consumer_service], consumer)
        lost += len(await published(stack.runtimes[producer], subject) - set(got))
        twice += len(got) - len(set(got))
    print(f"\nrestore drill ({backend}): in flight {len(sids)}, completed {len(completed)}, "
          f"events lost {lost}, events processed twice {twice}, "
          f"mails {delivered}, each delivered once ({recognised} queued again after the restore and "
          f"recognised as sent by their marker), done again by people: {len(waiting)} approvals, 1 debrief declined; "
          f"platform up {up_after:.0f} s after the stop, every certification completed {recovered:.0f} s after; "
          f"republished (events, workflow calls) {requeued}")


async def ops(stack: Stack, method: str, path: str, **kwargs):
    async with stack.client("reporting", token(Role.OPERATOR, sub="operator-1")) as reporting:
        r = await reporting.request(method, f"/api/v1/ops/{path}", **kwargs)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_workflows_that_moved_on_past_a_restore_are_shown_and_rewound(platform, capsys):
    """Temporal not restored with the services: approvals given after the backup moved two
    workflows on to the debrief while the restored services have them in review. `wwc ops
    gaps` lists them; `wwc ops rewind --to <backup time>` resets them to that point; the
    auditors approve again and both complete, each event consumed once."""
    stack = await platform.start()
    people = People(stack, await stack.create_staff("ana@auditors.example.org", "Ana Ramos", Role.AUDITOR),
                    await stack.create_staff("ben@auditors.example.org", "Ben Okafor", Role.AUDITOR))
    ids: dict[str, str] = {}
    for i in range(2):
        client, tok = await ready_city(stack, i, "g")
        r = await client.post("/api/v1/assessments/2026/submit")
        assert r.status_code == 201, r.text
        ids[r.json()["id"]] = tok
    sids = list(ids)
    await asyncio.gather(*(people.ana.wait_for_case(sid) for sid in sids))
    await eventually(lambda: all_at(stack, sids, "in_review"), timeout=300, interval=0.3)
    await eventually(lambda: no_gaps(stack), timeout=120, interval=0.5)

    backup_at = datetime.now(UTC)
    await backup_all(platform, platform.tmp / "backup", temporal=False)
    await asyncio.gather(*(people.review(sid) for sid in sids))  # after the backup
    await eventually(lambda: all_at(stack, sids, "debrief"), timeout=300, interval=0.3)

    await platform.stop()
    shutil.rmtree(platform.nats_dir)
    restore_all(platform, platform.tmp / "backup", temporal=False)  # Temporal keeps its own state
    await republish_all(platform, backup_at - timedelta(minutes=5))
    stack = await platform.start()
    people = People(stack, people.ana.token, people.ben.token)

    async def moved_on():
        gaps = await ops(stack, "GET", "gaps")
        return gaps if {g["submission_id"] for g in gaps} == set(sids) else None

    gaps = await eventually(moved_on, timeout=180, interval=0.5)
    assert {(g["workflow_stage"], g["recorded_stage"], g["workflow_is"]) for g in gaps} == {
        ("debrief", "in_review", "ahead")}
    # What the operator types (deploy/README.md): `wwc ops gaps`, `wwc ops rewind --to`.
    url, server, task = await serve(stack.apps["reporting"])
    try:
        listed = await ops_cli(capsys, url, "gaps")
        assert all(sid in listed for sid in sids) and listed.count("│ ahead") == 2, listed
        rewound = await ops_cli(capsys, url, "rewind", "--to", backup_at.isoformat())
        assert all(f"{sid}: rewound" in rewound for sid in sids) and "2 workflow(s) changed" in rewound, rewound
        await republish_all(platform, backup_at - timedelta(minutes=5))  # again, as the runbook says
        await eventually(lambda: no_gaps(stack), timeout=180, interval=0.5)
        assert "Every workflow is at the stage the services recorded" in await ops_cli(capsys, url, "gaps")
    finally:
        server.should_exit = True
        await task

    await asyncio.gather(*(people.review(sid) for sid in sids))  # the approvals the restore lost
    await asyncio.gather(*(people.decline_debrief(tok, sid) for sid, tok in ids.items()))
    await eventually(lambda: all_completed(stack, sids), timeout=300, interval=0.5)
    await assert_each_event_consumed_once(stack.runtimes, timeout=300)
    for name, runtime in stack.runtimes.items():
        assert await list_parked(runtime.db) == [], f"{name} parked messages"
    assert_each_mail_delivered_once(platform.mail_dir)
    print(f"\nrestore without Temporal: in flight {len(sids)}, workflows ahead of the records {len(gaps)}, "
          f"rewound {rewound.count(': rewound')}, completed {len(sids)}, approvals done again {len(sids)}")


async def ops_cli(capsys, url: str, *argv: str) -> str:
    """`wwc ops ...` in a wide terminal (in a thread: the served app runs on this loop)."""
    os.environ["COLUMNS"] = "200"
    code = await asyncio.to_thread(wwc, ["ops", "--url", url, "--token", token(Role.OPERATOR, sub="operator-1"),
                                         *argv])
    text = capsys.readouterr().out
    assert code == 0, text
    return text


async def no_gaps(stack: Stack) -> bool:
    return await ops(stack, "GET", "gaps") == []

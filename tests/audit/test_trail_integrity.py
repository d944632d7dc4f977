"""A trail you cannot roll back, against the real database: records sealed with HMAC-SHA256
under a key outside audit's database (key id per record, rotation), each case's head
published as a checkpoint that reporting keeps. `wwc audit verify-trail` catches an edit,
an insertion, a deletion in the middle, a deleted tail with the head rolled back, and a
chain recomputed without the key - one test each, as someone with write access to audit's
database would tamper with it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys

from sqlalchemy import delete, select, update

from services.audit import domain
from services.audit.config import DEV_TRAIL_KEYS
from services.audit.models import TrailHead, TrailRecord
from services.audit.trail import service as trail
from shared.contracts.events import Subject
from tests.audit.test_trail_and_opening import ROOT, reviewed_case

NEW_KEY = "k2=a-newer-trail-key-0123456789abcdef"


def verify_trail(audit, *args: str, keys: str | None = None) -> subprocess.CompletedProcess:
    """`wwc audit verify-trail` in its own process, on the test's audit database."""
    service = audit.runtime.settings.service
    env = {**os.environ, "WWC_AUDIT_DB_URL": service.db_url}
    if service.db_schema:
        env["WWC_AUDIT_DB_SCHEMA"] = service.db_schema
    if keys is not None:
        env["WWC_AUDIT_TRAIL_KEYS"] = keys
    return subprocess.run([sys.executable, "-m", "services.cli", "audit", "verify-trail", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


async def published(audit, sid: str, tmp_path) -> str:
    """The checkpoints audit published for the case (what reporting's ledger holds), as a file."""
    path = tmp_path / f"checkpoints-{sid}.json"
    path.write_text(json.dumps(await audit.events(Subject.TRAIL_CHECKPOINTED, sid)))
    return str(path)


async def rows(audit, case_id: str) -> list[TrailRecord]:
    async with audit.runtime.db.sessionmaker() as session:
        return list((await session.scalars(select(TrailRecord).where(TrailRecord.case_id == case_id)
                                           .order_by(TrailRecord.seq))).all())


async def test_every_record_is_sealed_with_a_key_and_every_head_is_published(audit, tmp_path):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    records = await rows(audit, case.id)
    assert {r.key_id for r in records} == {"dev"}
    entry = trail.entry_of(records[3])
    assert entry.hash == domain.entry_hash(entry, domain.parse_keys(DEV_TRAIL_KEYS).get("dev"))
    assert entry.hash != domain.entry_hash(entry)  # not a bare SHA-256 anyone can recompute
    checkpoints = await audit.events(Subject.TRAIL_CHECKPOINTED, sid)
    assert [(c["seq"], c["head"], c["key_id"]) for c in checkpoints] == [(r.seq, r.hash, "dev") for r in records]
    done = verify_trail(audit, "--case", sid, "--checkpoints", await published(audit, sid, tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


async def test_an_edited_record_is_detected(audit, tmp_path):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    async with audit.runtime.db.transaction() as session:
        await session.execute(update(TrailRecord).where(TrailRecord.case_id == case.id, TrailRecord.seq == 4)
                              .values(after={"criterion": "DG1", "response": "YES"}))
    done = verify_trail(audit, "--checkpoints", await published(audit, sid, tmp_path))
    assert done.returncode == 1
    assert "record 4 (decision.saved) was altered: its content does not match its seal" in done.stdout


async def test_an_inserted_record_is_detected(audit, tmp_path):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    chain = trail.case_chain(case.id)
    records = await rows(audit, case.id)
    async with audit.runtime.db.transaction() as session:
        for r in reversed(records[3:]):  # make room after record 3
            await session.execute(update(TrailRecord).where(TrailRecord.id == r.id).values(seq=r.seq + 1))
        forged = domain.TrailEntry(chain=chain, seq=4, at=records[3].at.isoformat(), actor_id="ana",
                                   actor_role="auditor", action="decision.saved", before=None,
                                   after={"criterion": "GM1", "response": "YES"}, reason="Looks fine.",
                                   prev_hash=records[2].hash, key_id="dev")
        session.add(TrailRecord(chain=chain, seq=4, case_id=case.id, at=records[3].at, actor_id="ana",
                                actor_role="auditor", action="decision.saved", before=None, after=forged.after,
                                reason=forged.reason, prev_hash=forged.prev_hash, key_id="dev",
                                hash=domain.entry_hash(forged, b"a guessed key")))
        await session.execute(update(TrailHead).where(TrailHead.chain == chain).values(seq=7))
    done = verify_trail(audit, "--case", sid, "--checkpoints", await published(audit, sid, tmp_path))
    assert done.returncode == 1
    assert "record 4 (decision.saved) was altered: its content does not match its seal" in done.stdout
    assert "record 5 (decision.saved) does not link to record 4" in done.stdout


async def test_a_record_deleted_in_the_middle_is_detected(audit, tmp_path):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    async with audit.runtime.db.transaction() as session:
        await session.execute(delete(TrailRecord).where(TrailRecord.case_id == case.id, TrailRecord.seq == 3))
    done = verify_trail(audit, "--case", sid, "--checkpoints", await published(audit, sid, tmp_path))
    assert done.returncode == 1
    assert "record 3 is missing (found 4 in its place)" in done.stdout


async def test_a_deleted_tail_with_the_head_rolled_back_is_caught_by_the_published_checkpoints(audit, tmp_path):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    checkpoints = await published(audit, sid, tmp_path)  # already in reporting's ledger
    records = await rows(audit, case.id)
    async with audit.runtime.db.transaction() as session:  # undo the sign-off request and the bulk confirmation
        await session.execute(delete(TrailRecord).where(TrailRecord.case_id == case.id, TrailRecord.seq > 4))
        await session.execute(update(TrailHead).where(TrailHead.chain == trail.case_chain(case.id))
                              .values(seq=4, head=records[3].hash))
    # Inside audit's database the rolled-back chain is consistent: that is why heads go out.
    assert verify_trail(audit, "--case", sid).returncode == 0
    done = verify_trail(audit, "--case", sid, "--checkpoints", checkpoints)
    assert done.returncode == 1, done.stdout
    assert "record 5 was published as a checkpoint but is gone: the chain was rolled back to 4 record(s)" \
        in done.stdout
    # A case whose whole trail (records and head) was deleted is still named by its checkpoints.
    async with audit.runtime.db.transaction() as session:
        await session.execute(delete(TrailRecord).where(TrailRecord.case_id == case.id))
        await session.execute(delete(TrailHead).where(TrailHead.chain == trail.case_chain(case.id)))
    done = verify_trail(audit, "--checkpoints", checkpoints)
    assert done.returncode == 1 and f"BROKEN  case:{case.id}: 0 record(s)" in done.stdout


async def test_a_chain_recomputed_without_the_key_is_detected(audit, tmp_path):
    """Edit a decision, then recompute every later hash and the head, as the old unkeyed
    chain allowed: with a guessed key, or as unkeyed records."""
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    chain = trail.case_chain(case.id)
    checkpoints = await published(audit, sid, tmp_path)

    async def rewrite(key: bytes | None, key_id: str) -> None:
        records = await rows(audit, case.id)
        previous = records[2].hash
        async with audit.runtime.db.transaction() as session:
            for r in records[3:]:
                e = dataclasses.replace(trail.entry_of(r), prev_hash=previous, key_id=key_id,
                                        reason="The inventory was fine." if r.seq == 4 else r.reason)
                digest = domain.entry_hash(e, key)
                await session.execute(update(TrailRecord).where(TrailRecord.id == r.id).values(
                    reason=e.reason, prev_hash=previous, key_id=key_id, hash=digest))
                previous = digest
            await session.execute(update(TrailHead).where(TrailHead.chain == chain).values(head=previous))

    await rewrite(b"a guessed key", "dev")
    done = verify_trail(audit, "--case", sid)
    assert done.returncode == 1
    for seq, action in [(4, "decision.saved"), (5, "decisions.confirmed"), (6, "signoff.requested")]:
        assert f"record {seq} ({action}) was altered: its content does not match its seal" in done.stdout
    await rewrite(None, "")  # as plain SHA-256 records, the way the trail was before it was keyed
    done = verify_trail(audit, "--case", sid, "--checkpoints", checkpoints)
    assert done.returncode == 1
    assert "record 4 (decision.saved) is not sealed with a key, after sealed records" in done.stdout
    assert "record 4 is not the one published as a checkpoint" in done.stdout


async def test_keys_rotate_old_records_verify_with_their_key_id(audit, tmp_path):
    sid = await reviewed_case(audit)
    case = await audit.case(sid)
    rotated = f"{DEV_TRAIL_KEYS},{NEW_KEY}"
    before = trail.keyring()
    trail.use_keys(domain.parse_keys(rotated))
    try:
        async with audit.client("ana") as ana:  # the holder withdraws the sign-off request
            assert (await ana.post(f"/api/v1/cases/{sid}/release", json={})).status_code == 200
    finally:
        trail.use_keys(before)
    records = await rows(audit, case.id)
    assert [r.key_id for r in records] == ["dev"] * 6 + ["k2"]
    checkpoints = await published(audit, sid, tmp_path)
    done = verify_trail(audit, "--case", sid, "--checkpoints", checkpoints, keys=rotated)
    assert done.returncode == 0, done.stdout + done.stderr
    done = verify_trail(audit, "--case", sid, keys=NEW_KEY)  # the old key dropped too early
    assert done.returncode == 1
    assert "record 1 (case.opened) was sealed with key 'dev', which is not configured" in done.stdout


def test_production_refuses_the_development_trail_key(tmp_path):
    import pytest

    from services.audit.config import AuditOptions
    from services.audit.main import check_trail_keys
    from shared.infra.settings import CommonSettings

    production = CommonSettings(env="production")
    for placeholder in (AuditOptions(trail_keys=""), AuditOptions(trail_keys="k1=change-me-placeholder-trail-key-0")):
        with pytest.raises(RuntimeError, match="development key"):
            check_trail_keys(placeholder, production)
    secret = tmp_path / "trail-keys"
    secret.write_text("# rotated 2026-03\nk1=an-old-real-key-0123456789abcdef\nk2=the-newest-real-key-0123456789\n")
    options = AuditOptions(trail_key_file=secret)
    check_trail_keys(options, production)
    assert options.trail_keyring().current[0] == "k2" and options.trail_keyring().get("k1")


async def test_a_trail_written_before_the_key_is_sealed_once_and_only_if_intact(audit):
    """Records from before this change are plain SHA-256: reported until `wwc audit
    seal-trail` seals the intact chains; a chain already broken is left as it is."""
    intact, broken = await reviewed_case(audit), await reviewed_case(audit)
    for sid in (intact, broken):
        case = await audit.case(sid)
        previous = domain.GENESIS
        async with audit.runtime.db.transaction() as session:  # as the unkeyed trail wrote them
            for r in await rows(audit, case.id):
                e = dataclasses.replace(trail.entry_of(r), prev_hash=previous, key_id="")
                previous = domain.entry_hash(e)
                await session.execute(update(TrailRecord).where(TrailRecord.id == r.id).values(
                    prev_hash=e.prev_hash, key_id="", hash=previous))
            await session.execute(update(TrailHead).where(TrailHead.chain == trail.case_chain(case.id))
                                  .values(head=previous))
    broken_case = await audit.case(broken)
    async with audit.runtime.db.transaction() as session:
        await session.execute(update(TrailRecord).where(TrailRecord.case_id == broken_case.id, TrailRecord.seq == 4)
                              .values(reason="Edited before sealing."))
    done = verify_trail(audit, "--case", intact)
    assert done.returncode == 1 and "is not sealed with a key (written before the trail was keyed" in done.stdout

    service = audit.runtime.settings.service
    env = {**os.environ, "WWC_AUDIT_DB_URL": service.db_url}
    if service.db_schema:
        env["WWC_AUDIT_DB_SCHEMA"] = service.db_schema
    # In a thread: the service's own transactions (its outbox relay) go on meanwhile, as they
    # would while an operator runs the command (a blocked event loop would hold their lock).
    sealed = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.cli", "audit", "seal-trail"],
                                     env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert sealed.returncode == 0, sealed.stderr
    assert f"case:{(await audit.case(intact)).id}" in sealed.stdout and broken_case.id not in sealed.stdout
    assert verify_trail(audit, "--case", intact).returncode == 0
    done = verify_trail(audit, "--case", broken)
    assert done.returncode == 1 and "record 4 (decision.saved) was altered" in done.stdout

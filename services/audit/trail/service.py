"""The trail: every action on a case (and every conflict an auditor declares) as an
append-only record, chained and sealed with HMAC-SHA256 under a key kept outside audit's
database (`domain.entry_hash`, the key id stored per record), with each chain's head kept
apart. Appends happen in the transaction of the change they record; each case's new head
is also published (`wwc.audit.trail.checkpointed`, by `cases.record`) so that reporting's
ledger holds it. Exports (JSON, CSV) and `wwc audit verify-trail` check the chain with
`domain.verify_chain`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import domain
from services.audit.models import TrailHead, TrailRecord
from shared.infra.orm import insert_if_absent, utcnow

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who did it: a person (their user id and role) or a part of the platform."""

    id: str
    role: str

    @classmethod
    def of(cls, principal) -> Actor:
        return cls(principal.sub, principal.role.value)


# The keys are configured once by the composition root (`main.build`, from AuditOptions);
# a process that did not (a tool, a test) reads them from the environment on first use.
_keys: domain.Keyring | None = None


def use_keys(keys: domain.Keyring | None) -> None:
    global _keys
    _keys = keys


def keyring() -> domain.Keyring:
    global _keys
    if _keys is None:
        from services.audit.config import AuditOptions

        _keys = AuditOptions().trail_keyring()
    return _keys


WORKFLOW = Actor("certification-workflow", SYSTEM)
INTAKE = Actor("intake", SYSTEM)


def case_chain(case_id: str) -> str:
    return f"case:{case_id}"


def auditor_chain(auditor_id: str) -> str:
    return f"auditor:{auditor_id}"


def _plain(value: Any) -> Any:
    """As JSON will store and return it (so the hash of the stored row is the one computed)."""
    return json.loads(domain.canonical_json(value)) if value is not None else None


async def append(session: AsyncSession, chain: str, actor: Actor, action: str, *, before: Any = None,
                 after: Any = None, reason: str = "", case_id: str | None = None,
                 at: datetime | None = None) -> TrailRecord:
    """Add a record at the end of `chain`, in the caller's transaction. The head row is
    updated first: concurrent appends to one chain wait for each other (PostgreSQL row
    lock, SQLite's write lock), so sequence numbers never collide."""
    await insert_if_absent(session, TrailHead, chain=chain, seq=0, head=domain.GENESIS)
    await session.execute(update(TrailHead).where(TrailHead.chain == chain).values(seq=TrailHead.seq + 1)
                          .execution_options(synchronize_session=False))
    head = await session.get(TrailHead, chain, populate_existing=True)
    assert head is not None
    when = (at or utcnow()).astimezone(UTC)
    entry = domain.TrailEntry(chain=chain, seq=head.seq, at=when.isoformat(), actor_id=actor.id,
                              actor_role=actor.role, action=action, before=_plain(before), after=_plain(after),
                              reason=reason or "", prev_hash=head.head)
    entry = domain.seal(entry, keyring())
    head.head = entry.hash
    record = TrailRecord(chain=chain, seq=entry.seq, case_id=case_id, at=when, actor_id=actor.id,
                         actor_role=actor.role, action=action, before=entry.before, after=entry.after,
                         reason=entry.reason, prev_hash=entry.prev_hash, key_id=entry.key_id, hash=entry.hash)
    session.add(record)
    await session.flush()
    return record


def entry_of(r: TrailRecord) -> domain.TrailEntry:
    return domain.TrailEntry(chain=r.chain, seq=r.seq, at=r.at.astimezone(UTC).isoformat(), actor_id=r.actor_id,
                             actor_role=r.actor_role, action=r.action, before=r.before, after=r.after,
                             reason=r.reason, prev_hash=r.prev_hash, hash=r.hash, key_id=r.key_id or "")


async def records(session: AsyncSession, chain: str) -> list[TrailRecord]:
    rows = await session.scalars(select(TrailRecord).where(TrailRecord.chain == chain).order_by(TrailRecord.seq))
    return list(rows.all())


async def verify(session: AsyncSession, chain: str,
                 checkpoints: list[domain.Checkpoint] | None = None) -> domain.ChainReport:
    rows = await records(session, chain)
    head = await session.get(TrailHead, chain)
    return domain.verify_chain(chain, [entry_of(r) for r in rows], head_seq=head.seq if head else None,
                               head_hash=head.head if head else None, keys=keyring(),
                               checkpoints=checkpoints or ())


async def seal_legacy(session: AsyncSession, chain: str) -> int:
    """Seal a chain written before the trail was keyed, once: only if every record is
    unkeyed and the chain verifies as it stands (a broken chain is never laundered).
    Returns the records sealed (0: nothing to do, or refused - see `verify`). Takes the
    head's lock first, as `append` does, so no append interleaves."""
    await session.execute(update(TrailHead).where(TrailHead.chain == chain).values(seq=TrailHead.seq)
                          .execution_options(synchronize_session=False))
    rows = await records(session, chain)
    head = await session.get(TrailHead, chain)
    if not rows or any(r.key_id for r in rows) or head is None:
        return 0
    intact = domain.verify_chain(chain, [entry_of(r) for r in rows], head_seq=head.seq, head_hash=head.head)
    if not intact.ok:
        return 0
    previous = domain.GENESIS
    for r in rows:
        sealed = domain.seal(dataclasses.replace(entry_of(r), prev_hash=previous), keyring())
        r.prev_hash, r.key_id, r.hash = sealed.prev_hash, sealed.key_id, sealed.hash
        previous = sealed.hash
    head.head = previous
    await session.flush()
    return len(rows)


async def chains(session: AsyncSession) -> list[str]:
    """Every chain: those with a head and those with records (a head deleted is a problem too)."""
    heads = set((await session.scalars(select(TrailHead.chain))).all())
    recorded = set((await session.scalars(select(TrailRecord.chain).distinct())).all())
    return sorted(heads | recorded)


# --- exports ----------------------------------------------------------------------------------


class TrailRecordRead(BaseModel):
    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    before: Any = None
    after: Any = None
    reason: str = ""
    prev_hash: str
    key_id: str = ""
    hash: str


class Verification(BaseModel):
    ok: bool
    records: int
    head: str
    problems: list[str]


class TrailExport(BaseModel):
    """A case's whole trail, with the result of checking its chain when exported. Whoever
    holds the trail key can check it again: each `hash` is the HMAC-SHA256, under the key
    `key_id` names, of the record's canonical JSON (its fields without `hash`, keys sorted,
    compact), which includes `prev_hash` and `key_id`."""

    case_id: str
    submission_id: str
    chain: str
    exported_at: datetime
    verification: Verification
    records: list[TrailRecordRead]


def verification_of(report: domain.ChainReport) -> Verification:
    return Verification(ok=report.ok, records=report.records, head=report.head, problems=report.problems)


async def export(session: AsyncSession, case_id: str, submission_id: str) -> TrailExport:
    chain = case_chain(case_id)
    rows = await records(session, chain)
    return TrailExport(case_id=case_id, submission_id=submission_id, chain=chain, exported_at=utcnow(),
                       verification=verification_of(await verify(session, chain)),
                       records=[TrailRecordRead(seq=r.seq, at=r.at, actor_id=r.actor_id, actor_role=r.actor_role,
                                                action=r.action, before=r.before, after=r.after, reason=r.reason,
                                                prev_hash=r.prev_hash, key_id=r.key_id or "", hash=r.hash)
                                for r in rows])


CSV_COLUMNS = ("seq", "at", "actor_id", "actor_role", "action", "before", "after", "reason", "prev_hash", "key_id", "hash")


def to_csv(data: TrailExport) -> str:
    """One row per record; `before` and `after` as compact JSON."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in data.records:
        writer.writerow([r.seq, r.at.astimezone(UTC).isoformat(), r.actor_id, r.actor_role, r.action,
                         _cell(r.before), _cell(r.after), _safe(r.reason), r.prev_hash, r.key_id, r.hash])
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else _safe(domain.canonical_json(value).decode())


def _safe(text: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula: quote it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

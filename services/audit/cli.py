"""`wwc audit verify-trail [--case ID] [--checkpoints FILE]` and `wwc audit seal-trail`.

verify-trail checks the trail in audit's database: every chain (each case's, each
auditor's conflicts) or one case's (by case or submission id). Each record's seal
(HMAC-SHA256 under the key its `key_id` names, from WWC_AUDIT_TRAIL_KEYS or
WWC_AUDIT_TRAIL_KEY_FILE) must match its content and link to the previous record, and the
chain must end where its head says. With `--checkpoints`, a JSON file of the heads audit
published (`wwc.audit.trail.checkpointed` payloads, as reporting's ledger keeps them, or
envelopes carrying them), each case's chain must still hold every published record: a
deleted tail with its head rolled back is caught there. Exit code 0: intact; 1: a record
was edited, removed, inserted, resealed without the key or rolled back (each problem is
printed); 2: no such case.

The checkpoints live in reporting's database, out of reach of whoever can write audit's;
export them from there, e.g. on PostgreSQL:

    psql -Atc "SELECT coalesce(json_agg(payload), '[]') FROM reporting.ledger
               WHERE subject = 'wwc.audit.trail.checkpointed'" > checkpoints.json

(the report's appendix also prints each review's last checkpoint).

seal-trail seals, once, chains written before the trail was keyed (only intact ones).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import or_, select

from services.audit import domain
from services.audit.models import ReviewCase
from services.audit.trail import service as trail
from shared.infra import migrations
from shared.infra.db import Database
from shared.infra.settings import ServiceSettings

EXIT_TAMPERED, EXIT_UNKNOWN = 1, 2


def read_checkpoints(path: Path) -> dict[str, list[domain.Checkpoint]]:
    """Checkpoints by chain, from a JSON list of payloads or envelopes (`payload`)."""
    out: dict[str, list[domain.Checkpoint]] = {}
    for item in json.loads(path.read_text()):
        p = item.get("payload", item)
        out.setdefault(p["chain"], []).append(domain.Checkpoint(seq=int(p["seq"]), head=str(p["head"])))
    return out


async def verify(db: Database, case: str | None, out: TextIO,
                 checkpoints: dict[str, list[domain.Checkpoint]] | None = None) -> int:
    checkpoints = checkpoints or {}
    async with db.sessionmaker() as session:
        if case:
            found = await session.scalar(select(ReviewCase).where(or_(ReviewCase.id == case,
                                                                      ReviewCase.submission_id == case)))
            if found is None:
                print(f"no review case {case}", file=out)
                return EXIT_UNKNOWN
            chains = [trail.case_chain(found.id)]
        else:
            # A chain whose every record and head were deleted is known from its checkpoints.
            chains = sorted(set(await trail.chains(session)) | set(checkpoints))
        broken = 0
        for chain in chains:
            report = await trail.verify(session, chain, checkpoints.get(chain))
            if report.ok:
                print(f"ok      {chain}: {report.records} record(s), head {report.head[:16]}", file=out)
                continue
            broken += 1
            print(f"BROKEN  {chain}: {report.records} record(s)", file=out)
            for problem in report.problems:
                print(f"        - {problem}", file=out)
    print(f"{len(chains)} chain(s) checked, {broken} broken", file=out)
    return EXIT_TAMPERED if broken else 0


async def seal(db: Database, out: TextIO) -> int:
    async with db.sessionmaker() as session:
        chains = await trail.chains(session)
    sealed = 0
    for chain in chains:  # one short transaction per chain: the service keeps running meanwhile
        async with db.transaction() as session:
            n = await trail.seal_legacy(session, chain)
        if n:
            sealed += 1
            print(f"sealed  {chain}: {n} record(s)", file=out)
    print(f"{sealed} chain(s) sealed", file=out)
    return 0


async def _run(work, *args) -> int:
    settings = ServiceSettings.for_service("audit")
    db = Database(settings.db_url, settings.db_schema)
    try:
        await migrations.upgrade(db, "audit")
        return await work(db, *args)
    finally:
        await db.dispose()


def _verify(args: argparse.Namespace) -> int:
    checkpoints = read_checkpoints(args.checkpoints) if args.checkpoints else None
    return asyncio.run(_run(verify, args.case, sys.stdout, checkpoints))


def _seal(args: argparse.Namespace) -> int:
    return asyncio.run(_run(seal, sys.stdout))


def register(subparsers) -> None:
    audit = subparsers.add_parser("audit", help="review cases").add_subparsers(dest="audit_command", required=True)
    check = audit.add_parser("verify-trail", help="check the trail's sealed chains (exit 1 if tampered)",
                             description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--case", help="a case's id or its submission's id (default: every chain)")
    check.add_argument("--checkpoints", type=Path,
                       help="a JSON file of the published trail checkpoints (from reporting's ledger)")
    check.set_defaults(func=_verify)
    sealer = audit.add_parser("seal-trail", help="seal chains written before the trail was keyed (once)")
    sealer.set_defaults(func=_seal)

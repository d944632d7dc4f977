"""`wwc audit verify-trail [--case ID]`: check the trail's hash chains in audit's database.

Every chain (each case's, each auditor's conflicts) or one case's (by case or submission
id). Each record's hash must match its content and link to the previous record, and the
chain must end where its head says. Exit code 0: intact; 1: a record was edited, removed
or inserted (each problem is printed); 2: no such case.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from sqlalchemy import or_, select

from services.audit.trail import service as trail
from services.audit.models import ReviewCase
from shared.infra import migrations
from shared.infra.db import Database
from shared.infra.settings import ServiceSettings

EXIT_TAMPERED, EXIT_UNKNOWN = 1, 2


async def verify(db: Database, case: str | None, out: TextIO) -> int:
    async with db.sessionmaker() as session:
        if case:
            found = await session.scalar(select(ReviewCase).where(or_(ReviewCase.id == case,
                                                                      ReviewCase.submission_id == case)))
            if found is None:
                print(f"no review case {case}", file=out)
                return EXIT_UNKNOWN
            chains = [trail.case_chain(found.id)]
        else:
            chains = await trail.chains(session)
        broken = 0
        for chain in chains:
            report = await trail.verify(session, chain)
            if report.ok:
                print(f"ok      {chain}: {report.records} record(s), head {report.head[:16]}", file=out)
                continue
            broken += 1
            print(f"BROKEN  {chain}: {report.records} record(s)", file=out)
            for problem in report.problems:
                print(f"        - {problem}", file=out)
    print(f"{len(chains)} chain(s) checked, {broken} broken", file=out)
    return EXIT_TAMPERED if broken else 0


async def _run(case: str | None, out: TextIO) -> int:
    settings = ServiceSettings.for_service("audit")
    db = Database(settings.db_url, settings.db_schema)
    try:
        await migrations.upgrade(db, "audit")
        return await verify(db, case, out)
    finally:
        await db.dispose()


def _verify(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args.case, sys.stdout))


def register(subparsers) -> None:
    audit = subparsers.add_parser("audit", help="review cases").add_subparsers(dest="audit_command", required=True)
    check = audit.add_parser("verify-trail", help="check the trail's hash chains (exit 1 if tampered)",
                             description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--case", help="a case's id or its submission's id (default: every chain)")
    check.set_defaults(func=_verify)

"""A process that dies by SIGKILL at a chosen point of the outbox flow (used by
test_outbox.py): `after-commit` commits an event and dies before any publish;
`after-publish` publishes through the relay and dies before marking the row sent, its claim
on the row held for `CLAIM` (short, so the test's next relay soon takes the row over)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta

from shared.contracts.events import Subject, SubmissionWithdrawn, make_event
from shared.infra.broker import jetstream_publisher, make_broker
from shared.infra.db import Database
from shared.infra.outbox import OutboxRelay, add_event
from shared.infra.settings import NatsSettings


CLAIM = timedelta(seconds=2)


def die(*_args) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main(mode: str, db_url: str, schema: str, nats_url: str, submission_id: str) -> None:
    db = Database(db_url, schema or None)
    async with db.transaction() as session:
        await add_event(session, make_event(
            Subject.SUBMISSION_WITHDRAWN, SubmissionWithdrawn(submission_id=submission_id, city_id="c"),
            submission_id=submission_id, correlation_id=submission_id))
    if mode == "after-commit":
        die()
    settings = NatsSettings(url=nats_url)
    broker = make_broker(settings)
    await broker.connect()

    async def before_mark(_event_id: str) -> None:
        die()

    await OutboxRelay(db, await jetstream_publisher(broker, settings), before_mark=before_mark,
                      claim=CLAIM).relay_once()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))

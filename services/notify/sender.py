"""The background sender: delivers what the ledger holds as `pending`.

Why a sender rather than sending in the consumer: the mail is recorded in the same
transaction as the fact that causes it (an event marked processed, a booking, an
activity's offer), so neither a crash nor a redelivery can lose or double it; a slow or
absent relay never holds up events, bookings or the workflow; and each recipient's mail
retries, backs off and parks on its own, so one bad address never re-sends the others.

Record before sending, mark after. What was sent is also marked outside the database, in
the object store (`sent_marks`): before a mail goes to the relay, one HEAD asks whether its
Message-ID went already, so neither a sender that died before its mark nor a database
restored from a backup (which forgets what was sent after it) sends a mail twice.

The one window that cannot be closed: the relay said yes and the sender died (or the object
store failed) before the marker was written. That mail goes once more, with the same
Message-ID (mail clients show one). Two systems (the relay and the store) cannot be
written atomically; the window is the time between the relay's yes and one PUT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from services.notify import ledger, mails
from services.notify.config import NotifyOptions
from services.notify.mailer import SmtpConnection, compose, ics_method
from services.notify.sent_marks import SentMarks
from shared.infra.db import Database
from shared.infra.logging import get_logger
from shared.infra.settings import SmtpSettings

log = get_logger(__name__)


class MailSender:
    def __init__(self, db: Database, smtp: SmtpSettings, options: NotifyOptions, marks: SentMarks, *,
                 ready: Callable[[], bool] = lambda: True, published: Callable[[], None] = lambda: None) -> None:
        self.db, self.smtp, self.options, self.marks, self.ready = db, smtp, options, marks, ready
        # Called after a transaction that recorded an event (a parked mail) commits.
        self.published = published
        self._wake = asyncio.Event()
        self.sent = 0
        self.already_sent = 0  # found marked in the object store: recorded as sent, not sent
        self.store_failures = 0  # batches given back unsent: the object store did not answer
        # Test hook: runs after the relay accepted a mail and before it is marked sent.
        self.before_mark: Callable[[ledger.Outgoing], Awaitable[None]] | None = None

    def wake(self) -> None:
        """Called after a transaction that recorded mail commits."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            sent = 0
            try:
                if self.ready():
                    sent = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or the object store is away: try again at the next poll
                log.warning("mail.sender_failed", error=str(exc)[:300])
            if not sent:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.options.poll_seconds)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def send_due(self) -> int:
        async with self.db.transaction() as session:
            batch = await ledger.claim(session, self.options)
        if not batch:
            return 0
        conn = SmtpConnection(self.smtp)
        try:
            for i, out in enumerate(batch):
                try:
                    went = await self.marks.sent(out.message_id)
                except Exception:
                    # Unknown whether it went: send nothing until the store answers again.
                    async with self.db.transaction() as session:
                        await ledger.release(session, [o.id for o in batch[i:]])
                    self.store_failures += 1
                    raise
                if went:
                    async with self.db.transaction() as session:
                        await ledger.mark_sent(session, out.id)
                    self.already_sent += 1
                    log.info("mail.already_sent", mail_id=out.id, kind=out.kind)
                    continue
                msg = compose(self.smtp.sender, out.to, out.subject, mails.reveal(out.text, out.secrets),
                              html=mails.reveal(out.html, out.secrets, html=True),
                              message_id=out.message_id, ics=out.ics, ics_method=ics_method(out.ics), kind=out.kind)
                try:
                    await asyncio.to_thread(conn.send, msg)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    async with self.db.transaction() as session:
                        state = await ledger.mark_failed(session, self.options, out, error)
                    self.published()
                    log.warning("mail.failed", mail_id=out.id, attempts=out.attempts, state=state.value,
                                error=error[:300])
                    continue
                if self.before_mark is not None:
                    await self.before_mark(out)
                try:  # the marker first: from here on no restore or crash sends it again
                    await self.marks.record(out.message_id)
                except Exception as exc:
                    log.warning("mail.sent_unmarked", mail_id=out.id, error=str(exc)[:300])
                async with self.db.transaction() as session:
                    await ledger.mark_sent(session, out.id)
                self.sent += 1
        finally:
            await asyncio.to_thread(conn.close)
        return len(batch)

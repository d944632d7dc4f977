"""The sent-once ledger's life: the sender claims due mail, marks it sent or failed (with
backoff, parked after too many failures, operators told), and operators list mail and
retry a parked one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import directory, domain, mails
from services.notify.config import NotifyOptions
from services.notify.domain import Kind, MailState
from services.notify.errors import MailNotParked, NotFound
from services.notify.models import Mail
from shared.contracts.events import MailFailed, MailRetried, Subject, make_event
from shared.infra.orm import utcnow
from shared.infra.outbox import add_event
from shared.infra.settings import service_urls


@dataclass(frozen=True)
class Outgoing:
    """What the sender needs of a claimed mail (read before the send, outside any session)."""

    id: str
    kind: str
    to: str
    subject: str
    text: str
    html: str
    ics: str | None
    message_id: str
    attempts: int
    secrets: dict[str, str] | None = None  # put into the message by the sender only


async def claim(session: AsyncSession, options: NotifyOptions, *, now: datetime | None = None) -> list[Outgoing]:
    """Take up to a batch of due mail. Each is taken with one conditional UPDATE (so two
    senders never take the same one) that counts the attempt and hides the mail for
    `claim_seconds`: if this sender dies mid-send, another takes it again after that."""
    now = now or utcnow()
    due = (await session.scalars(
        select(Mail).where(Mail.state == MailState.PENDING.value, Mail.next_attempt_at <= now)
        .order_by(Mail.next_attempt_at, Mail.created_at).limit(options.batch_size))).all()
    taken = []
    for mail in due:
        result = await session.execute(
            update(Mail).where(Mail.id == mail.id, Mail.state == MailState.PENDING.value,
                               Mail.attempts == mail.attempts)
            .values(attempts=mail.attempts + 1, next_attempt_at=now + timedelta(seconds=options.claim_seconds))
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            taken.append(Outgoing(id=mail.id, kind=mail.kind, to=mail.to, subject=mail.subject, text=mail.text, html=mail.html,
                                  ics=mail.ics, message_id=mail.message_id, attempts=mail.attempts + 1,
                                  secrets=mail.secrets))
    return taken


async def mark_sent(session: AsyncSession, mail_id: str) -> None:
    await session.execute(update(Mail).where(Mail.id == mail_id, Mail.state == MailState.PENDING.value)
                          .values(state=MailState.SENT.value, sent_at=utcnow(), last_error=None, secrets=None)
                          .execution_options(synchronize_session=False))


async def release(session: AsyncSession, mail_ids: list[str]) -> None:
    """Give claimed mail back unsent and without counting the attempt (the sender could not
    tell whether it went already: the object store was away)."""
    if mail_ids:
        await session.execute(update(Mail).where(Mail.id.in_(mail_ids), Mail.state == MailState.PENDING.value)
                              .values(attempts=Mail.attempts - 1, next_attempt_at=utcnow())
                              .execution_options(synchronize_session=False))


async def mark_failed(session: AsyncSession, options: NotifyOptions, out: Outgoing, error: str) -> MailState:
    """Back off, or park after `max_attempts`; parking tells every operator (except for a
    mail that is itself such a notice: no loop)."""
    state = domain.after_failure(out.attempts, options.max_attempts)
    delay = domain.retry_delay(out.attempts, base=options.retry_backoff_seconds,
                               most=options.retry_backoff_max_seconds)
    await session.execute(update(Mail).where(Mail.id == out.id, Mail.state == MailState.PENDING.value)
                          .values(state=state.value, last_error=error[:1000], next_attempt_at=utcnow() + delay)
                          .execution_options(synchronize_session=False))
    if state == MailState.PARKED:
        mail = await session.get(Mail, out.id)
        if mail is not None:  # the operator console lists it (every kind, notices included)
            await add_event(session, make_event(
                Subject.MAIL_FAILED,
                MailFailed(mail_id=mail.id, kind=mail.kind, to=mail.to, attempts=mail.attempts, error=error[:500],
                           city_id=mail.city_id, submission_id=mail.submission_id),
                submission_id=mail.submission_id, city_id=mail.city_id))
        if mail is not None and mail.kind != Kind.DELIVERY_FAILED.value:
            await mails.queue(session, cause=f"parked-mail:{mail.id}:{mail.attempts}", kind=Kind.DELIVERY_FAILED,
                              recipients=await directory.operators(session), city_id=mail.city_id,
                              submission_id=mail.submission_id,
                              context={"mail_kind": mail.kind, "mail_to": mail.to, "attempts": mail.attempts,
                                       "error": error[:300], "mail_id": mail.id,
                                       "ops_url": f"{service_urls()['notify']}/api/v1/mail?state=parked"})
    return state


# --- operators --------------------------------------------------------------------------------


async def search(session: AsyncSession, *, city_id: str | None = None, submission_id: str | None = None,
                 state: str | None = None, kind: str | None = None, to: str | None = None,
                 limit: int = 100, offset: int = 0) -> tuple[list[Mail], int]:
    q = select(Mail)
    for column, value in ((Mail.city_id, city_id), (Mail.submission_id, submission_id), (Mail.state, state),
                          (Mail.kind, kind), (Mail.to, to.lower() if to else None)):
        if value:
            q = q.where(column == value)
    total = await session.scalar(select(func.count()).select_from(q.subquery()))
    found = (await session.scalars(q.order_by(Mail.created_at.desc(), Mail.id).limit(limit).offset(offset))).all()
    return list(found), int(total or 0)


async def get(session: AsyncSession, mail_id: str) -> Mail:
    mail = await session.get(Mail, mail_id)
    if mail is None:
        raise NotFound(f"no mail {mail_id}")
    return mail


async def retry(session: AsyncSession, mail_id: str) -> Mail:
    """A parked mail goes back to the sender with a fresh count of attempts."""
    mail = await get(session, mail_id)
    result = await session.execute(update(Mail).where(Mail.id == mail_id, Mail.state == MailState.PARKED.value)
                                   .values(state=MailState.PENDING.value, attempts=0, next_attempt_at=utcnow())
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise MailNotParked(f"mail {mail_id} is {mail.state}, not parked", state=mail.state)
    await add_event(session, make_event(Subject.MAIL_RETRIED, MailRetried(mail_id=mail_id),
                                        submission_id=mail.submission_id, city_id=mail.city_id))
    await session.refresh(mail)
    return mail

"""The mail log (operators): every message with its recipient, kind, state and attempts,
searchable by city and submission; a parked one can be retried."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from services.notify import ledger, mails
from services.notify.api.deps import AUTH, Operator, Sender
from services.notify.errors import MailNotParked, NotFound
from services.notify.problems import problems
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["mail"])
State = Literal["pending", "sent", "parked"]


class MailRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    to: str
    language: str
    subject: str
    state: str
    attempts: int
    last_error: str | None
    message_id: str
    cause: str
    city_id: str | None
    submission_id: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime


class MailDetail(MailRead):
    """The mail as stored: a secret it carried (a confirmation link) reads "[link withheld]";
    only the message sent to its recipient had it."""

    text: str
    html: str
    ics: str | None

    @classmethod
    def of(cls, mail) -> "MailDetail":
        detail = cls.model_validate(mail)
        return detail.model_copy(update={"text": mails.redact(detail.text), "html": mails.redact(detail.html)})


class MailPage(BaseModel):
    items: list[MailRead]
    total: int
    limit: int
    offset: int


@router.get("/mail", response_model=MailPage, summary="The mail log",
            description="Every mail notify recorded, newest first: `pending` (waiting, or retried after a failure: "
                        "see `attempts` and `last_error`), `sent` (the relay accepted it) or `parked` (failed too "
                        "often: retry it by hand). Filter by city, submission, state, kind or recipient.",
            responses=problems(*AUTH, "invalid_input"))
async def list_mail(_: Operator, session: Session, city_id: str | None = Query(None, max_length=36),
                    submission_id: str | None = Query(None, max_length=36), state: State | None = None,
                    kind: str | None = Query(None, max_length=60), to: str | None = Query(None, max_length=320),
                    limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)) -> MailPage:
    found, total = await ledger.search(session, city_id=city_id, submission_id=submission_id, state=state,
                                       kind=kind, to=to, limit=limit, offset=offset)
    return MailPage(items=[MailRead.model_validate(m) for m in found], total=total, limit=limit, offset=offset)


@router.get("/mail/{mail_id}", response_model=MailDetail, summary="One mail, as written",
            responses=problems(*AUTH, NotFound))
async def get_mail(mail_id: str, _: Operator, session: Session) -> MailDetail:
    return MailDetail.of(await ledger.get(session, mail_id))


@router.post("/mail/{mail_id}/retry", response_model=MailRead, summary="Retry a parked mail",
             description="Puts a parked mail back in the queue with a fresh count of attempts; it keeps its "
                         "Message-ID. Only a parked mail (`mail_not_parked` otherwise).",
             responses=problems(*AUTH, NotFound, MailNotParked))
async def retry_mail(mail_id: str, _: Operator, runtime: Runtime, sender: Sender) -> MailRead:
    async with runtime.db.transaction() as session:
        mail = MailRead.model_validate(await ledger.retry(session, mail_id))
    sender.wake()
    runtime.wake_relay()
    return mail

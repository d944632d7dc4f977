"""Notify's JSON API: what was sent (operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from shared.infra.auth import Principal, Role, require_roles
from services.notify.models import SentMail

router = APIRouter(prefix="/api/v1", tags=["notify"])
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]


@router.get("/mail")
async def sent_mail(_: Operator, request: Request, submission_id: str | None = None) -> list[dict]:
    async with request.app.state.runtime.db.sessionmaker() as session:
        q = select(SentMail).order_by(SentMail.sent_at)
        if submission_id:
            q = q.where(SentMail.submission_id == submission_id)
        return [{"id": m.id, "cause": m.cause, "submission_id": m.submission_id, "to": m.to,
                 "subject": m.subject, "sent_at": m.sent_at.isoformat()} for m in (await session.scalars(q)).all()]

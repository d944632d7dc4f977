"""Conflicts of interest: each auditor declares their own; everyone on the staff sees who
is conflicted with what (assignment needs it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from services.audit import directory
from services.audit.conflicts import service as conflicts
from services.audit.cases import balance
from services.audit.cases import service as cases
from services.audit.conflicts.service import ConflictRead
from services.audit.deps import Auditor, Staff
from services.audit.errors import NotFound
from services.audit.problems import AUTH, problems
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["conflicts of interest"])


class AuditorRead(BaseModel):
    user_id: str
    name: str
    email: str
    conflicts: list[ConflictRead] = Field(default_factory=list)
    holds: int = Field(description="open cases they hold")


class Declared(BaseModel):
    conflict: ConflictRead
    released: list[str] = Field(default_factory=list, description="submissions of the cases handed back because "
                                                                  "of it")


@router.get("/auditors", response_model=list[AuditorRead], summary="Auditors, their conflicts and workload",
            responses=problems(*AUTH))
async def list_auditors(_: Staff, session: Session) -> list[AuditorRead]:
    holds = {load.auditor_id: load.open_cases for load in await balance.loads(session)}
    out = []
    for a in await directory.auditors(session):
        out.append(AuditorRead(user_id=a.user_id, name=a.name, email=a.email, holds=holds.get(a.user_id, 0),
                               conflicts=[conflicts.read(c) for c in await conflicts.active(session, a.user_id)]))
    return out


@router.get("/me/conflicts", response_model=list[conflicts.ConflictRead], summary="Your declared conflicts",
            description="An operator has none (operators never hold cases).", responses=problems(*AUTH))
async def my_conflicts(principal: Staff, session: Session) -> list[conflicts.ConflictRead]:
    return [conflicts.read(c) for c in await conflicts.active(session, principal.sub)]


@router.post("/me/conflicts", response_model=Declared, status_code=status.HTTP_201_CREATED,
             summary="Declare a conflict of interest",
             description="With a city (`city_id`), a state or province (`country` and `state`) or a country "
                         "(`country`). From then on you cannot claim, be assigned, decide or sign off its cases; "
                         "the cases it covers that you hold are handed back to the queue.",
             responses=problems(*AUTH, "invalid_input"))
async def declare(data: conflicts.ConflictCreate, principal: Auditor, runtime: Runtime) -> Declared:
    async with runtime.db.transaction() as session:
        row, released = await cases.declare_conflict(session, principal, data)
        out = Declared(conflict=conflicts.read(row), released=released)
    runtime.wake_relay()
    return out


@router.delete("/me/conflicts", status_code=status.HTTP_204_NO_CONTENT, summary="Withdraw a declared conflict",
               description="Kept on your trail with the declaration.",
               responses=problems(*AUTH, NotFound, "invalid_input"))
async def withdraw(principal: Auditor, runtime: Runtime,
                   conflict_id: Annotated[str, Query(min_length=1, max_length=36)]) -> Response:
    async with runtime.db.transaction() as session:
        await conflicts.withdraw(session, principal, conflict_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

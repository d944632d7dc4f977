"""Conflicts of interest: an auditor declares them (a city, a state or province, a
country); a conflicted auditor never holds, is assigned, decides or signs off a case of
that place (`domain.conflict_with`). Declaring one hands back the cases it covers that the
auditor holds. Every declaration and withdrawal is on the auditor's trail."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import domain
from services.audit.trail import service as trail
from services.audit.domain import Conflict as ConflictRule
from services.audit.domain import Place
from services.audit.errors import NotFound
from services.audit.models import Conflict, ReviewCase
from shared.contracts.text import SingleLine
from shared.infra.auth import Principal
from shared.infra.orm import utcnow


class ConflictCreate(BaseModel):
    scope: domain.ConflictScope
    city_id: SingleLine = Field(default="", max_length=36, description="for scope `city`")
    country: SingleLine = Field(default="", max_length=2, description="two-letter code, for `state` and `country`")
    state: SingleLine = Field(default="", max_length=100, description="state or province, for `state`")
    reason: str = Field(default="", max_length=2000, description="why (kept on the trail; operators read it)")


class ConflictRead(BaseModel):
    id: str
    key: str
    scope: str
    city_id: str = ""
    country: str = ""
    state: str = ""
    reason: str = ""
    declared_at: datetime


def rule_of(row: Conflict) -> ConflictRule:
    return ConflictRule(domain.ConflictScope(row.scope), city_id=row.city_id, country=row.country, state=row.state)


def read(row: Conflict) -> ConflictRead:
    return ConflictRead(id=row.id, key=rule_of(row).key, scope=row.scope, city_id=row.city_id, country=row.country,
                        state=row.state, reason=row.reason, declared_at=row.declared_at)


def place_of(case: ReviewCase) -> Place:
    return Place(city_id=case.city_id or "", country=case.country or "", state=case.state or "")


async def active(session: AsyncSession, auditor_id: str) -> list[Conflict]:
    rows = await session.scalars(select(Conflict).where(Conflict.auditor_id == auditor_id,
                                                        Conflict.withdrawn_at.is_(None))
                                 .order_by(Conflict.declared_at))
    return list(rows.all())


async def rules(session: AsyncSession, auditor_id: str) -> list[ConflictRule]:
    return [rule_of(r) for r in await active(session, auditor_id)]


async def all_active(session: AsyncSession) -> dict[str, list[ConflictRule]]:
    out: dict[str, list[ConflictRule]] = {}
    for row in (await session.scalars(select(Conflict).where(Conflict.withdrawn_at.is_(None)))).all():
        out.setdefault(row.auditor_id, []).append(rule_of(row))
    return out


async def check(session: AsyncSession, auditor_id: str, case: ReviewCase, *, who: str, action: str) -> None:
    domain.ensure_not_conflicted(await rules(session, auditor_id), place_of(case), who=who, action=action)


async def declare(session: AsyncSession, principal: Principal, data: ConflictCreate) -> tuple[Conflict, bool]:
    """Record the conflict, once: declaring it again returns the one there; (the conflict,
    whether it is new). Handing back the cases it covers is the cases' own use case
    (`cases.service.declare_conflict`)."""
    rule = domain.make_conflict(data.scope, city_id=data.city_id, country=data.country, state=data.state)
    for row in await active(session, principal.sub):
        if rule_of(row).key == rule.key:
            return row, False
    row = Conflict(auditor_id=principal.sub, scope=rule.scope.value, city_id=rule.city_id, country=rule.country,
                   state=rule.state, reason=data.reason.strip(), declared_at=utcnow())
    session.add(row)
    await session.flush()
    await trail.append(session, trail.auditor_chain(principal.sub), trail.Actor.of(principal), "conflict.declared",
                       after={"key": rule.key}, reason=row.reason)
    return row, True


async def withdraw(session: AsyncSession, principal: Principal, conflict_id: str) -> Conflict:
    row = await session.get(Conflict, conflict_id)
    if row is None or row.auditor_id != principal.sub or row.withdrawn_at is not None:
        raise NotFound(f"no declared conflict {conflict_id}")
    row.withdrawn_at = utcnow()
    await trail.append(session, trail.auditor_chain(principal.sub), trail.Actor.of(principal), "conflict.withdrawn",
                       before={"key": rule_of(row).key}, reason="")
    return row

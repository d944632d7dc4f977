"""A city staff member's mail preferences: the kinds of mail they do not want."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from services.notify import directory
from services.notify.api.deps import AUTH, CityStaff
from services.notify.domain import OPTIONAL_KINDS
from services.notify.problems import problems
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["preferences"])
OptionalKind = Literal[tuple(k.value for k in OPTIONAL_KINDS)]  # type: ignore[valid-type]


class MailPreferences(BaseModel):
    opted_out: list[OptionalKind] = []  # type: ignore[valid-type]
    kinds: list[str] = [k.value for k in OPTIONAL_KINDS]


class MailPreferencesUpdate(BaseModel):
    opted_out: list[OptionalKind]  # type: ignore[valid-type]


@router.get("/me/mail-preferences", response_model=MailPreferences, summary="My mail preferences",
            responses=problems(*AUTH))
async def get_preferences(principal: CityStaff, session: Session) -> MailPreferences:
    return MailPreferences(opted_out=sorted(await directory.preferences(session, principal.sub)))


@router.put("/me/mail-preferences", response_model=MailPreferences, summary="Opt out of kinds of mail",
            description="Replaces the kinds of city mail this person does not receive (the others go on).",
            responses=problems(*AUTH, "invalid_input"))
async def put_preferences(data: MailPreferencesUpdate, principal: CityStaff, runtime: Runtime) -> MailPreferences:
    async with runtime.db.transaction() as session:
        kinds = await directory.set_preferences(session, principal.sub, set(data.opted_out))
    return MailPreferences(opted_out=sorted(kinds))

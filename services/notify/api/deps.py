"""Notify's typed request dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.notify.debriefs.service import DebriefConfig
from services.notify.sender import MailSender
from shared.infra.auth import Principal, Role, require_roles

AUTH = ("not_authenticated", "token_expired", "invalid_token", "forbidden")


def get_config(request: Request) -> DebriefConfig:
    return request.app.state.debrief_config


def get_sender(request: Request) -> MailSender:
    return request.app.state.mail_sender


Config = Annotated[DebriefConfig, Depends(get_config)]
Sender = Annotated[MailSender, Depends(get_sender)]
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]
Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]
CityStaff = Annotated[Principal, Depends(require_roles(Role.CITY))]
CityOrAuditor = Annotated[Principal, Depends(require_roles(Role.CITY, Role.AUDITOR))]
AuditorOrOperator = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.OPERATOR))]

"""Audit's typed request dependencies, shared by its JSON API and its console."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from services.audit.config import AuditOptions
from services.audit.cases.evidence import IntakeFiles
from shared.infra.auth import Principal, Role, bearer, require_roles


def get_options(request: Request) -> AuditOptions:
    return request.app.state.audit_options


Options = Annotated[AuditOptions, Depends(get_options)]


def get_intake_files(request: Request) -> IntakeFiles:
    """Intake's evidence API: where this service's consoles ask for tokens (intake)."""
    return IntakeFiles.of(request.app.state.identity)


Files = Annotated[IntakeFiles, Depends(get_intake_files)]

# Auditors act; operators read everything; cities get nothing from audit.
Staff = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.OPERATOR))]
Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]


def caller_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The caller's own bearer token (checked by the role dependency), passed on to intake
    when audit asks it for an evidence link on the caller's behalf."""
    return credentials.credentials if credentials else ""


CallerToken = Annotated[str, Depends(caller_token)]

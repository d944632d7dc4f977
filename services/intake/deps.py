"""Intake's typed request dependencies, shared by its JSON API and its portal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.intake import domain, submissions
from services.intake.config import IntakeOptions
from services.intake.models import Submission
from services.intake.throttle import RegistrationThrottle, SignInThrottle
from shared.catalog import load_catalog
from shared.infra.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.web.deps import Session
from shared.web.signin import vouched_client


def get_options(request: Request) -> IntakeOptions:
    return request.app.state.intake_options


Options = Annotated[IntakeOptions, Depends(get_options)]

def get_throttle(request: Request) -> SignInThrottle:
    return request.app.state.sign_in_throttle


Throttle = Annotated[SignInThrottle, Depends(get_throttle)]


def get_registration_throttle(request: Request) -> RegistrationThrottle:
    return request.app.state.registration_throttle


RegistrationLimits = Annotated[RegistrationThrottle, Depends(get_registration_throttle)]


def client_address(request: Request) -> str:
    """The caller's address: the person's own when a console signs in for them (vouched for
    with the platform secret, see shared.web.signin), else the connection's (the real one
    behind a trusted proxy, see ProxyHeadersMiddleware)."""
    vouched = vouched_client(request, request.app.state.auth_settings.secret)
    if vouched:
        return vouched
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]

# A signed-in member of a city's staff (a city token always names its city).
CurrentCity = Annotated[Principal, Depends(require_roles(Role.CITY))]


def valid_cycle(cycle: str) -> str:
    return domain.check_cycle(cycle)


# The `{cycle}` path parameter, checked to be a cycle name.
Cycle = Annotated[str, Depends(valid_cycle)]


def open_cycle(cycle: str, options: Options) -> str:
    return domain.check_open_cycle(cycle, load_catalog(options.catalog_version))


# The `{cycle}` of a write (snapshot, draft, evidence, submission): one of the current
# catalog's open cycles, else 422 `invalid_cycle` on the field `cycle`.
OpenCycle = Annotated[str, Depends(open_cycle)]


async def visible_submission(submission_id: str, principal: CurrentPrincipal, session: Session) -> Submission:
    """The `{submission_id}` submission, if the caller may see it (else NotFound)."""
    return await submissions.visible(session, principal, submission_id)


# A submission the caller may see (a city: its own; auditors and operators: any).
VisibleSubmission = Annotated[Submission, Depends(visible_submission)]

"""Appeals: listed, read, decided per criterion and signed off, by auditors who took no
part in the review (operators read them)."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit.appeals import service as appeals
from services.audit.deps import Auditor, Staff
from services.audit.errors import (
    AppealIncomplete,
    AppealState,
    ConflictOfInterest,
    DecisionInvalid,
    FourEyes,
    NotFound,
    NotIndependent,
)
from services.audit.problems import AUTH, problems
from shared.web.deps import Runtime

router = APIRouter(tags=["appeals"])


@router.get("/appeals", response_model=list[appeals.AppealRead], summary="Appeals: open ones first, soonest due")
async def list_appeals(principal: Staff, runtime: Runtime) -> list[appeals.AppealRead]:
    async with runtime.db.sessionmaker() as session:
        return [await appeals.read(session, a) for a in await appeals.listing(session)]


@router.get("/appeals/{appeal_id}", response_model=appeals.AppealRead,
            summary="An appeal: per criterion the audited finding, the city's statement and evidence, the decision",
            responses=problems(*AUTH, NotFound))
async def get_appeal(appeal_id: str, principal: Staff, runtime: Runtime) -> appeals.AppealRead:
    async with runtime.db.sessionmaker() as session:
        return await appeals.read(session, await appeals.by_id(session, appeal_id))


@router.post("/appeals/{appeal_id}/decisions", response_model=appeals.AppealRead,
             summary="Decide an appealed criterion: upheld or overturned",
             description="By an auditor who took no part in the review (never held the case, decided a "
                         "criterion, submitted or signed off the review) and has no conflict of interest with the "
                         "city: `not_independent` (403) otherwise. A `reason_code` from the catalog's "
                         "`audit_reasons` and an `explanation` the city reads. Decided again until sign-off.",
             responses=problems(*AUTH, NotFound, NotIndependent, ConflictOfInterest, AppealState, DecisionInvalid,
                                "invalid_input"))
async def decide(appeal_id: str, data: appeals.AppealDecisionWrite, principal: Auditor,
                 runtime: Runtime) -> appeals.AppealRead:
    async with runtime.db.transaction() as session:
        appeal = await appeals.by_id(session, appeal_id)
        await appeals.decide(session, principal, appeal, data)
        out = await appeals.read(session, await appeals.by_id(session, appeal_id))
    runtime.wake_relay()
    return out


@router.post("/appeals/{appeal_id}/signoff", response_model=appeals.AppealRead,
             summary="Sign off a decided appeal (four eyes)",
             description="By a second independent auditor who decided none of its criteria (`four_eyes`), once "
                         "every appealed criterion is decided (`appeal_incomplete`). Publishes "
                         "`wwc.audit.appeal.decided` and tells the certification workflow.",
             responses=problems(*AUTH, NotFound, NotIndependent, ConflictOfInterest, FourEyes, AppealState,
                                AppealIncomplete))
async def sign_off(appeal_id: str, principal: Auditor, runtime: Runtime) -> appeals.AppealRead:
    async with runtime.db.transaction() as session:
        await appeals.sign_off(session, principal, await appeals.by_id(session, appeal_id))
        out = await appeals.read(session, await appeals.by_id(session, appeal_id))
    runtime.wake_relay()
    return out

"""The queue and the case: list, read the whole case, claim, assign, hand back, and the
short-lived link to a piece of evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.audit import directory
from services.audit.cases import service as cases
from services.audit.cases import balance, evidence
from services.audit.cases.balance import LoadRead
from services.audit.cases import queue
from services.audit.rounds import service as rounds
from services.audit.cases import views
from services.audit.deps import Auditor, CallerToken, Files, Options, Staff
from services.audit.errors import (
    CaseTaken,
    ConflictOfInterest,
    DomainError,
    NotFound,
    NotHolder,
    UnknownAuditor,
    WrongState,
)
from services.audit.problems import AUTH, problems
from shared.i18n import Lang
from shared.infra.auth import Principal
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["queue and cases"])


class Release(BaseModel):
    reason: str = Field(default="", max_length=2000, description="why you hand it back (on the trail)")


class AssignResult(BaseModel):
    submission_id: str
    assigned: bool
    auditor_id: str | None = Field(default=None, description="who got the case (automatic assignment)")
    code: str | None = Field(default=None, description="why not (a problem code), e.g. `case_taken`")
    detail: str = ""


async def summary(session, principal: Principal, case, options) -> queue.CaseSummary:
    [one] = await queue.summaries(session, principal, [case], options)
    return one


@router.get("/cases", response_model=list[queue.CaseSummary], summary="The review queue",
            description="Open cases ordered by due date, then age. Filters: cycle, region, population band, "
                        "state, status (repeatable), assignee (`me`, `none` or an auditor's id). For an auditor, "
                        "`can_claim` and `conflict` say whether they may take each case and, if not, which "
                        "declared conflict stops them.",
            responses=problems(*AUTH))
async def list_cases(principal: Staff, session: Session, options: Options,
                     f: Annotated[queue.QueueFilter, Query()]) -> list[queue.CaseSummary]:
    return await queue.summaries(session, principal, await queue.cases(session, principal, f), options)


@router.get("/cases/by-submission/{submission_id}", response_model=queue.CaseSummary,
            summary="A case's summary, by its submission", responses=problems(*AUTH, NotFound))
async def case_for_submission(submission_id: str, principal: Staff, session: Session,
                              options: Options) -> queue.CaseSummary:
    return await summary(session, principal, await cases.by_submission(session, submission_id), options)


@router.get("/cases/{submission_id}", response_model=views.CaseRead, summary="The whole case",
            description="Every criterion with its text, the city's response and narrative, the evidence manifest "
                        "(keys, sizes, SHA-256; what rounds brought is marked with its round), the answers given "
                        "in clarification rounds and the decision; the rounds, call notes and sign-off.",
            responses=problems(*AUTH, NotFound))
async def read_case(submission_id: str, principal: Staff, session: Session, options: Options,
                    lang: Lang = "en") -> views.CaseRead:
    return await views.case_read(session, principal, await cases.by_submission(session, submission_id), options,
                                 lang)


@router.post("/cases/{submission_id}/claim", response_model=queue.CaseSummary, summary="Claim a case",
             description="One holder per case: of two auditors claiming at once, one gets it and the other "
                         "409 `case_taken`. A conflicted auditor gets 403 `conflict_of_interest`.",
             responses=problems(*AUTH, NotFound, CaseTaken, ConflictOfInterest, WrongState))
async def claim(submission_id: str, principal: Auditor, runtime: Runtime, options: Options) -> queue.CaseSummary:
    async with runtime.db.transaction() as session:
        case = await cases.claim(session, principal, await cases.by_submission(session, submission_id))
    runtime.wake_relay()
    async with runtime.db.sessionmaker() as session:
        return await summary(session, principal, case, options)


@router.post("/cases/{submission_id}/release", response_model=queue.CaseSummary,
             summary="Hand a case back to the queue", description="Only its holder; its decisions stay with it.",
             responses=problems(*AUTH, NotFound, NotHolder, WrongState, "invalid_input"))
async def release(submission_id: str, data: Release, principal: Auditor, runtime: Runtime,
                  options: Options) -> queue.CaseSummary:
    async with runtime.db.transaction() as session:
        case = await cases.release(session, principal, await cases.by_submission(session, submission_id),
                                   data.reason.strip())
    runtime.wake_relay()
    async with runtime.db.sessionmaker() as session:
        return await summary(session, principal, case, options)


@router.post("/cases/assign", response_model=list[AssignResult], summary="Assign cases to an auditor",
             description="One or many cases nobody holds, each on its own: the answer says for each whether it was "
                         "assigned or why not (`case_taken`, `conflict_of_interest`, `case_state`, `not_found`). "
                         "An unknown auditor is refused as a whole (422 `unknown_auditor`).",
             responses=problems(*AUTH, UnknownAuditor, "invalid_input"))
async def assign(data: cases.AssignCreate, principal: Auditor, runtime: Runtime) -> list[AssignResult]:
    async with runtime.db.sessionmaker() as session:
        if data.auditor_id not in {a.user_id for a in await directory.auditors(session)}:
            raise UnknownAuditor(f"{data.auditor_id} is not an auditor.", field="auditor_id",
                                 reason="not an auditor")
    out = []
    for submission_id in dict.fromkeys(data.submission_ids):
        try:
            async with runtime.db.transaction() as session:
                case = await cases.by_submission(session, submission_id)
                await cases.assign(session, principal, case, data.auditor_id)
        except UnknownAuditor:
            raise
        except DomainError as exc:
            out.append(AssignResult(submission_id=submission_id, assigned=False, code=exc.code, detail=exc.detail))
        else:
            out.append(AssignResult(submission_id=submission_id, assigned=True))
    runtime.wake_relay()
    return out


class AutoAssigned(BaseModel):
    results: list[AssignResult]
    balance: list[LoadRead] = Field(description="every auditor's open cases and nearest due date, afterwards")


@router.post("/cases/auto-assign", response_model=AutoAssigned, summary="Assign cases automatically",
             description="Each case goes to the auditor holding the fewest open cases (`workload`; ties by name) "
                         "or to one drawn at random (`random`, reproducible with `seed`: a calibration sample), "
                         "never to an auditor with a conflict of interest covering the case. Each case on its own: "
                         "`results` says who got it or why not (`case_taken`, `case_state`, `not_found`, "
                         "`no_eligible_auditor`); `balance` is the workload afterwards.",
             responses=problems(*AUTH, "invalid_input"))
async def auto_assign(data: balance.AutoAssignCreate, principal: Auditor, runtime: Runtime) -> AutoAssigned:
    outcomes, loads = await balance.auto_assign(runtime.db, principal, data)
    runtime.wake_relay()
    return AutoAssigned(
        results=[AssignResult(submission_id=o.submission_id, assigned=o.auditor is not None,
                              auditor_id=o.auditor.auditor_id if o.auditor else None,
                              code=o.error.code if o.error else None, detail=o.error.detail if o.error else "")
                 for o in outcomes],
        balance=[LoadRead(**vars(load)) for load in loads])


@router.get("/workload", response_model=list[LoadRead], summary="Each auditor's open work",
            description="Every auditor with the open cases they hold and the nearest due date among them.",
            responses=problems(*AUTH))
async def workload(_: Staff, session: Session) -> list[LoadRead]:
    return [LoadRead(**vars(load)) for load in await balance.loads(session)]


@router.get("/cases/{submission_id}/evidence/{evidence_id}/link", response_model=evidence.EvidenceLink,
            summary="A short-lived link to a file of the case",
            description="Asked of intake (which keeps the files) with your own token: it opens the file without "
                        "sign-in for a few minutes. Only files of this case's manifest or its clarification "
                        "answers; a link evidence has its address in the case instead.",
            responses=problems(*AUTH, NotFound, "evidence_unavailable"))
async def evidence_link(submission_id: str, evidence_id: str, _: Staff, token: CallerToken, session: Session,
                        files: Files) -> evidence.EvidenceLink:
    case = await cases.by_submission(session, submission_id)
    item = evidence.find(evidence.of_case(case, await rounds.of_case(session, case.id)), evidence_id)
    return await files.link(item, token)

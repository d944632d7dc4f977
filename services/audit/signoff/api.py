"""Four-eyes sign-off: the holder submits, a second auditor approves or returns."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit.cases import service as cases
from services.audit.second_review import service as second_review
from services.audit.signoff import service as signoff
from services.audit.deps import Auditor, Staff
from services.audit.errors import (
    BlindReview,
    DifferencesUnresolved,
    SecondReviewIncomplete,
    ChangedSinceDecided,
    ConflictOfInterest,
    DecisionsChanged,
    DecisionsIncomplete,
    FourEyes,
    NotFound,
    NotHolder,
    RoundOpen,
    SubmissionNotReceived,
    WrongState,
)
from services.audit.problems import AUTH, problems
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["sign-off"])


async def _read(runtime: Runtime, submission_id: str) -> signoff.SignoffRead:
    async with runtime.db.sessionmaker() as session:
        return await signoff.read(session, await cases.by_submission(session, submission_id))


@router.get("/cases/{submission_id}/signoff", response_model=signoff.SignoffRead,
            summary="The sign-off: the decisions' hash now, who submitted, who approved, the history",
            responses=problems(*AUTH, NotFound, BlindReview))
async def read_signoff(submission_id: str, principal: Staff, session: Session) -> signoff.SignoffRead:
    case = await cases.by_submission(session, submission_id)
    second_review.ensure_not_blind(case, principal)  # its hash and history speak of the first decisions
    return await signoff.read(session, case)


@router.post("/cases/{submission_id}/signoff/request", response_model=signoff.SignoffRead,
             summary="Submit the review for sign-off",
             description="Only the holder, once every criterion has a decision, no round is open "
                         "(`decisions_incomplete` lists what is missing in `errors`) and no decision is changed "
                         "since decided (`changed_since_decided` names them in `errors`). A double-reviewed "
                         "case also waits for its complete blind second review (409 `second_review_incomplete`); "
                         "the request then discloses both reviews to each other.",
             responses=problems(*AUTH, NotFound, NotHolder, WrongState, ConflictOfInterest, RoundOpen,
                                DecisionsIncomplete, ChangedSinceDecided, SubmissionNotReceived,
                                SecondReviewIncomplete))
async def request_signoff(submission_id: str, principal: Auditor, runtime: Runtime) -> signoff.SignoffRead:
    async with runtime.db.transaction() as session:
        await signoff.request(session, principal, await cases.by_submission(session, submission_id))
    runtime.wake_relay()
    return await _read(runtime, submission_id)


@router.post("/cases/{submission_id}/signoff/approve", response_model=signoff.SignoffRead,
             summary="Approve the review (a second auditor)",
             description="Four eyes: nobody who ever submitted the review or decided any of its criteria (403 "
                         "`four_eyes`; `took_part` on the sign-off lists them), not "
                         "conflicted (403 `conflict_of_interest`). Send the `decisions_hash` you read: if the "
                         "decisions changed since, 409 `decisions_changed`. Approval records you, the time and "
                         "that hash, publishes `wwc.audit.review.completed` with every change and its reasons, "
                         "and signals the workflow, which moves on to scoring with the final responses. A "
                         "double-reviewed case needs a resolution of every difference between its two reviews "
                         "first (409 `differences_unresolved`).",
             responses=problems(*AUTH, NotFound, WrongState, FourEyes, ConflictOfInterest, DecisionsChanged,
                                ChangedSinceDecided, DifferencesUnresolved, "invalid_input"))
async def approve(submission_id: str, data: signoff.SignoffApproval, principal: Auditor,
                  runtime: Runtime) -> signoff.SignoffRead:
    async with runtime.db.transaction() as session:
        await signoff.approve(session, principal, await cases.by_submission(session, submission_id), data)
    runtime.wake_relay()
    return await _read(runtime, submission_id)


@router.post("/cases/{submission_id}/signoff/return", response_model=signoff.SignoffRead,
             summary="Return the review to its reviewer with comments (a second auditor)",
             responses=problems(*AUTH, NotFound, WrongState, FourEyes, ConflictOfInterest, "invalid_input"))
async def return_review(submission_id: str, data: signoff.SignoffReturn, principal: Auditor,
                        runtime: Runtime) -> signoff.SignoffRead:
    async with runtime.db.transaction() as session:
        await signoff.return_case(session, principal, await cases.by_submission(session, submission_id), data)
    runtime.wake_relay()
    return await _read(runtime, submission_id)

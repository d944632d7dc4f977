"""The blind second review: assign the second reviewer, their decisions, and the
resolution of each difference at sign-off."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit.cases import service as cases
from services.audit.deps import Auditor, Options, Staff
from services.audit.errors import (
    AlreadyResolved,
    ConflictOfInterest,
    DecisionInvalid,
    FourEyes,
    NoEligibleAuditor,
    NotDoubleReview,
    NotFound,
    NotSecondReviewer,
    SecondReviewerAssigned,
    SubmissionNotReceived,
    UnknownAuditor,
    WrongState,
)
from services.audit.problems import AUTH, problems
from services.audit.second_review import service as second_review
from services.audit.signoff import service as signoff
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["double review"])


async def _read(runtime: Runtime, principal, submission_id: str) -> second_review.SecondReviewRead:
    async with runtime.db.sessionmaker() as session:
        case = await cases.by_submission(session, submission_id)
        return await second_review.read(session, principal, case)


@router.get("/cases/{submission_id}/second-review", response_model=second_review.SecondReviewRead,
            summary="The case's blind second review",
            description="Whether the case is in the double-review sample, its second reviewer and progress. The "
                        "second decisions are shown to the second reviewer (and operators) only until the sign-off "
                        "request discloses both reviews; then `differences` lists each criterion the two answered "
                        "differently with its resolution.",
            responses=problems(*AUTH, NotFound))
async def read(submission_id: str, principal: Staff, session: Session) -> second_review.SecondReviewRead:
    return await second_review.read(session, principal, await cases.by_submission(session, submission_id))


@router.post("/cases/{submission_id}/second-review/assign", response_model=second_review.SecondReviewRead,
             summary="Give a double-reviewed case its second reviewer",
             description="The auditor named, or one drawn at random (seeded: `seed`, by default the programme's "
                         "seed and the submission) among the auditors free of a conflict who neither hold nor "
                         "decided the case. 409 `not_double_review` for a case outside the sample, "
                         "`second_reviewer_assigned` if it has another one, `no_eligible_auditor` if nobody fits.",
             responses=problems(*AUTH, NotFound, NotDoubleReview, WrongState, UnknownAuditor, FourEyes,
                                ConflictOfInterest, NoEligibleAuditor, SecondReviewerAssigned, "invalid_input"))
async def assign(submission_id: str, data: second_review.SecondAssign, principal: Auditor, runtime: Runtime,
                 options: Options) -> second_review.SecondReviewRead:
    async with runtime.db.transaction() as session:
        await second_review.assign(session, principal, await cases.by_submission(session, submission_id), data,
                                   options.double_review_seed)
    runtime.wake_relay()
    return await _read(runtime, principal, submission_id)


@router.post("/cases/{submission_id}/second-review/replace", response_model=second_review.SecondReviewRead,
             summary="Give the second review to another auditor (the second reviewer leaves)",
             description="Before the sign-off request, by any auditor free of a conflict with the case: the auditor "
                         "named, or one drawn at random (seeded) among those free of a conflict who take no part in "
                         "the first review — never the one replaced — takes over, with a `reason` on the trail "
                         "(`second_review.released`, then `second_review.assigned` naming whom they replace). The "
                         "previous reviewer's blind decisions are discarded: the new one decides every criterion "
                         "afresh; if they had decided any, the previous reviewer counts as having taken part (four "
                         "eyes). 409 `case_state` once the reviews are disclosed or without a second reviewer.",
             responses=problems(*AUTH, NotFound, NotDoubleReview, WrongState, UnknownAuditor, FourEyes,
                                ConflictOfInterest, NoEligibleAuditor, "invalid_input"))
async def replace(submission_id: str, data: second_review.SecondReplace, principal: Auditor, runtime: Runtime,
                  options: Options) -> second_review.SecondReviewRead:
    async with runtime.db.transaction() as session:
        await second_review.replace(session, principal, await cases.by_submission(session, submission_id), data,
                                    options.double_review_seed)
    runtime.wake_relay()
    return await _read(runtime, principal, submission_id)


@router.post("/cases/{submission_id}/second-review/release", response_model=second_review.SecondReviewRead,
             summary="Take the second review from its reviewer, to nobody",
             description="As `replace`, without naming the next reviewer: the case has no second reviewer until "
                         "one is assigned (`assign`); the sign-off request waits for the second review.",
             responses=problems(*AUTH, NotFound, NotDoubleReview, WrongState, ConflictOfInterest, "invalid_input"))
async def release(submission_id: str, data: second_review.SecondRelease, principal: Auditor,
                  runtime: Runtime) -> second_review.SecondReviewRead:
    async with runtime.db.transaction() as session:
        await second_review.release(session, principal, await cases.by_submission(session, submission_id), data)
    runtime.wake_relay()
    return await _read(runtime, principal, submission_id)


@router.put("/cases/{submission_id}/second-review/{criterion_id}", response_model=second_review.BlindRead,
            summary="The second reviewer decides a criterion (blind)",
            description="Same rules as a decision (a change needs a reason code, a note, and what would satisfy "
                        "the criterion when it lowers the response), recorded apart from the case's decisions; "
                        "saving again replaces it until the sign-off request discloses both reviews.",
            responses=problems(*AUTH, NotFound, NotDoubleReview, NotSecondReviewer, WrongState, ConflictOfInterest,
                               SubmissionNotReceived, DecisionInvalid, "invalid_input"))
async def decide(submission_id: str, criterion_id: str, data: second_review.BlindWrite, principal: Auditor,
                 runtime: Runtime) -> second_review.BlindRead:
    async with runtime.db.transaction() as session:
        case = await cases.by_submission(session, submission_id)
        saved = await second_review.decide(session, principal, case, criterion_id, data)
        return second_review.BlindRead.model_validate(saved, from_attributes=True)


@router.post("/cases/{submission_id}/second-review/{criterion_id}/resolve",
             response_model=second_review.SecondReviewRead,
             summary="Resolve a difference between the two reviews (at sign-off)",
             description="By an auditor who may approve the sign-off (four eyes; not either reviewer): "
                         "`keep_first` (the first decision stands) or `take_second` (the second reviewer's decision "
                         "becomes the criterion's decision, a new version on the trail), with a note. Approval "
                         "waits until every difference is resolved.",
             responses=problems(*AUTH, NotFound, WrongState, FourEyes, ConflictOfInterest, AlreadyResolved,
                                DecisionInvalid, "invalid_input"))
async def resolve(submission_id: str, criterion_id: str, data: second_review.ResolutionWrite, principal: Auditor,
                  runtime: Runtime) -> second_review.SecondReviewRead:
    async with runtime.db.transaction() as session:
        case = await cases.by_submission(session, submission_id)
        locked = await signoff.lock_for_approver(session, principal, case, "resolved")
        await second_review.resolve(session, principal, locked, criterion_id, data)
    runtime.wake_relay()
    return await _read(runtime, principal, submission_id)

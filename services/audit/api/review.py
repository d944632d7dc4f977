"""The holder's work on a case: decisions, clarification rounds, the review call."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from services.audit.calls import service as calls
from services.audit.cases import service as cases
from services.audit.decisions import service as decisions
from services.audit.rounds import service as rounds
from services.audit.second_review import service as second_review
from services.audit.deps import Auditor, Options, Staff
from services.audit.errors import (
    BlindReview,
    ConflictOfInterest,
    DecisionConflict,
    DecisionInvalid,
    NotFound,
    NotHolder,
    NothingChanged,
    RoundInvalid,
    RoundLimitReached,
    RoundOpen,
    SubmissionNotReceived,
    WrongState,
)
from services.audit.problems import AUTH, problems
from shared.web.deps import Runtime, Session

router = APIRouter(tags=["review"])
HOLDER = (NotFound, NotHolder, WrongState, ConflictOfInterest, SubmissionNotReceived)


class Skipped(BaseModel):
    criterion_id: str
    reason: str = Field(description="`in_open_round` (asked in the open clarification round) or `changed` (new "
                                    "answers or evidence since submission): decide it on its own")


class Confirmed(BaseModel):
    confirmed: list[str]
    skipped: list[Skipped] = Field(default_factory=list)


@router.put("/cases/{submission_id}/decisions/{criterion_id}", response_model=decisions.DecisionRead,
            summary="Confirm or change a criterion's response",
            description="Keep the submitted response (no reason) or change it to YES, IN_PROGRESS or NO with a "
                        "`reason_code` from the catalog's `audit_reasons`, an `explanation` the city reads and, "
                        "when the response goes down, `what_would_satisfy` the criterion. Send the `version` you "
                        "read (0 for a first decision): a decision saved meanwhile answers 409 "
                        "`decision_conflict` with its `current_version`, never a silent overwrite. The evidence "
                        "in view is recorded with its hashes. Only the case's holder.",
            responses=problems(*AUTH, *HOLDER, DecisionInvalid, DecisionConflict, "invalid_input"))
async def decide(submission_id: str, criterion_id: str, data: decisions.DecisionWrite, principal: Auditor,
                 runtime: Runtime) -> decisions.DecisionRead:
    async with runtime.db.transaction() as session:
        case = await cases.by_submission(session, submission_id)
        saved = await decisions.save(session, principal, case, criterion_id, data)
        return decisions.read(saved, decisions.catalog_of(case))


@router.post("/cases/{submission_id}/decisions/confirm-remaining", response_model=Confirmed,
             summary="Confirm every criterion without a decision, as submitted",
             description="Never a criterion under clarification or with new answers or evidence (`skipped`, with "
                         "why): those are decided one by one.",
             responses=problems(*AUTH, *HOLDER))
async def confirm_remaining(submission_id: str, principal: Auditor, runtime: Runtime) -> Confirmed:
    async with runtime.db.transaction() as session:
        case = await cases.by_submission(session, submission_id)
        confirmed = await decisions.confirm_remaining(session, principal, case)
        skipped = await decisions.not_bulk_confirmable(session, case)
        return Confirmed(confirmed=confirmed, skipped=[Skipped(**s) for s in skipped])


@router.post("/cases/{submission_id}/decisions/{criterion_id}/confirm", response_model=decisions.DecisionRead,
             summary="Confirm, with a note, a decision whose criterion changed since it was made",
             description="After new answers or evidence (a clarification answer) a decision is `changed_since_"
                         "decided`: decide it again (PUT) or confirm it stands with a `note` saying why. Send the "
                         "decision's `version`; 409 `decision_not_changed` if nothing changed since. You become "
                         "one of the review's deciders (four eyes).",
             responses=problems(*AUTH, *HOLDER, DecisionConflict, DecisionInvalid, NothingChanged, "invalid_input"))
async def reconfirm(submission_id: str, criterion_id: str, data: decisions.DecisionReconfirm, principal: Auditor,
                    runtime: Runtime) -> decisions.DecisionRead:
    async with runtime.db.transaction() as session:
        case = await cases.by_submission(session, submission_id)
        saved = await decisions.reconfirm(session, principal, case, criterion_id, data)
        return decisions.read(saved, decisions.catalog_of(case), mats=await decisions.materials(session, case))


@router.get("/cases/{submission_id}/clarifications", response_model=list[rounds.RoundRead],
            summary="The case's clarification rounds, with the city's answers",
            description="Not for the case's blind second reviewer before the sign-off request (403 "
                        "`blind_review`): the questions are the first auditor's.",
            responses=problems(*AUTH, NotFound, BlindReview))
async def list_rounds(submission_id: str, principal: Staff, session: Session) -> list[rounds.RoundRead]:
    case = await cases.by_submission(session, submission_id)
    second_review.ensure_not_blind(case, principal)
    return [rounds.read(r) for r in await rounds.of_case(session, case.id)]


@router.post("/cases/{submission_id}/clarifications", response_model=rounds.RoundRead,
             status_code=status.HTTP_201_CREATED, summary="Ask the city for documents or explanations",
             description="On named criteria, due at `due_at` (default `round_days` from now; between "
                         "`min_round_days` and `max_round_days`). One open round at a time, at most "
                         "`max_clarification_rounds` per case. The review clock stops until it is answered "
                         "(through intake) or due; then the case comes back with what exists.",
             responses=problems(*AUTH, *HOLDER, RoundInvalid, RoundOpen, RoundLimitReached, "invalid_input"))
async def request_round(submission_id: str, data: rounds.RoundCreate, principal: Auditor, runtime: Runtime,
                        options: Options) -> rounds.RoundRead:
    async with runtime.db.transaction() as session:
        case = await cases.by_submission(session, submission_id)
        row = await rounds.request(session, principal, case, data, options)
        read = rounds.read(row)
    runtime.wake_relay()
    return read


@router.get("/cases/{submission_id}/agenda", response_model=list[calls.AgendaItemRead],
            summary="The review call's agenda: every criterion flagged so far",
            description="Changed responses, criteria asked about in rounds (answered: walk through the answer; "
                        "expired: no answer came), and YES responses without evidence, in catalog order.",
            responses=problems(*AUTH, NotFound, SubmissionNotReceived, BlindReview))
async def agenda(submission_id: str, principal: Staff, session: Session) -> list[calls.AgendaItemRead]:
    case = await cases.by_submission(session, submission_id)
    second_review.ensure_not_blind(case, principal)  # it lists the first auditor's changes
    return await calls.agenda(session, case)


@router.get("/cases/{submission_id}/calls", response_model=list[calls.CallNoteRead],
            summary="Notes of the review call(s), each with the decisions it changed",
            description="Not for the case's blind second reviewer before the sign-off request (403 `blind_review`).",
            responses=problems(*AUTH, NotFound, BlindReview))
async def list_calls(submission_id: str, principal: Staff, session: Session) -> list[calls.CallNoteRead]:
    case = await cases.by_submission(session, submission_id)
    second_review.ensure_not_blind(case, principal)
    return await calls.reads(session, case)


@router.post("/cases/{submission_id}/calls", response_model=calls.CallNoteRead, status_code=status.HTTP_201_CREATED,
             summary="Record the notes of a review call",
             description="Decisions made because of the call cite the note (`call_note_id`).",
             responses=problems(*AUTH, *HOLDER, "invalid_input"))
async def add_call(submission_id: str, data: calls.CallNoteCreate, principal: Auditor,
                   runtime: Runtime) -> calls.CallNoteRead:
    async with runtime.db.transaction() as session:
        case = await cases.by_submission(session, submission_id)
        note = await calls.add(session, principal, case, data)
    async with runtime.db.sessionmaker() as session:
        return next(n for n in await calls.reads(session, case) if n.id == note.id)

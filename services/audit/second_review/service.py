"""The blind second review of a double-reviewed case (calibration).

A share of cases is picked when opened (`domain.picked_for_double_review`). For such a
case a second auditor — neither its holder nor anyone who decided it, free of a conflict —
is assigned (by name, or drawn at random from a seed with `balance.pick`) and decides every
criterion in `blind_decisions`, apart from the case's decisions. Blindness both ways: the
second reviewer never reads the first auditor's decisions (nor the trail, which records
them), and only the second reviewer reads theirs, until the sign-off request discloses both
(`disclose`: the first review as it stood is kept on the case and on the trail). The request
waits for a complete second review. At sign-off every difference needs a resolution (keep
the first decision or take the second, with a note) before approval; taking the second
changes the decision through `decisions.take_second`. The first auditor's decisions stand
otherwise.
"""

from __future__ import annotations

import random
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import directory, domain
from services.audit.cases import balance
from services.audit.cases import service as cases
from services.audit.conflicts import service as conflicts
from services.audit.decisions import service as decisions
from services.audit.domain import HOLDABLE
from services.audit.errors import (
    AlreadyResolved,
    BlindReview,
    DifferencesUnresolved,
    FourEyes,
    InvalidInput,
    NoEligibleAuditor,
    NotDoubleReview,
    NotFound,
    NotSecondReviewer,
    SecondReviewerAssigned,
    SecondReviewIncomplete,
    UnknownAuditor,
    WrongState,
)
from services.audit.models import BlindDecision, Decision, Resolution, ReviewCase, Staff
from services.audit.trail import service as trail
from shared.contracts.vocabulary import Answer
from shared.infra.auth import Principal, Role
from shared.infra.orm import insert_if_absent, new_id, utcnow


class Outcome(StrEnum):
    KEEP_FIRST = "keep_first"
    TAKE_SECOND = "take_second"


class SecondAssign(BaseModel):
    auditor_id: str | None = Field(default=None, max_length=64,
                                   description="the second reviewer; default: one drawn at random among the eligible")
    seed: int | None = Field(default=None, description="for the random draw: the same seed gives the same auditor")


class SecondReplace(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why the second reviewer is replaced (on the trail)")
    auditor_id: str | None = Field(default=None, max_length=64,
                                   description="the new second reviewer; default: one drawn at random among the "
                                               "eligible, never the one replaced")
    seed: int | None = Field(default=None, description="for the random draw: the same seed gives the same auditor")


class SecondRelease(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why the second review is released (on the trail)")


class BlindWrite(BaseModel):
    response: Answer
    reason_code: str = Field(default="", max_length=80, description="for a change: an `audit_reasons` id")
    note: str = Field(default="", max_length=4000, description="for a change: why (the explanation the city would "
                                                              "read if this decision is taken)")
    what_would_satisfy: str = Field(default="", max_length=4000,
                                    description="for a change that lowers the response: what would satisfy it")


class BlindRead(BaseModel):
    criterion_id: str
    auditor_id: str
    submitted: Answer
    response: Answer
    reason_code: str = ""
    note: str = ""
    what_would_satisfy: str = ""
    at: datetime
    version: int


class ResolutionWrite(BaseModel):
    outcome: Outcome
    note: str = Field(min_length=1, max_length=4000, description="why this reviewer's decision stands")


class DifferenceRead(BaseModel):
    criterion_id: str
    first: Answer = Field(description="the first auditor's response when the reviews were disclosed")
    second: Answer = Field(description="the second reviewer's response")
    outcome: Outcome | None = Field(default=None, description="the resolution; none yet: approval waits for it")
    note: str = ""
    resolved_by: str | None = None
    resolved_at: datetime | None = None


class SecondReviewRead(BaseModel):
    double_review: bool = Field(description="picked for the blind second review when the case was opened")
    second_reviewer_id: str | None = None
    decided: int = Field(description="criteria the second reviewer decided")
    total: int
    complete: bool
    disclosed: bool = Field(description="both reviews were disclosed to each other (at the sign-off request)")
    decisions: list[BlindRead] | None = Field(
        default=None, description="the second reviewer's decisions: only to them (and operators) until disclosed")
    differences: list[DifferenceRead] = Field(
        default_factory=list, description="once disclosed: each criterion the reviewers answered differently")


# --- reading ----------------------------------------------------------------------------------


async def of_case(session: AsyncSession, case_id: str) -> dict[str, BlindDecision]:
    rows = await session.scalars(select(BlindDecision).where(BlindDecision.case_id == case_id)
                                 .execution_options(populate_existing=True))
    return {b.criterion_id: b for b in rows.all()}


async def resolutions(session: AsyncSession, case_id: str) -> dict[str, Resolution]:
    rows = await session.scalars(select(Resolution).where(Resolution.case_id == case_id))
    return {r.criterion_id: r for r in rows.all()}


def is_blind(case: ReviewCase, principal: Principal | None) -> bool:
    """The second reviewer reading the case before both reviews are disclosed."""
    return (principal is not None and case.double_review and case.second_reviewer_id == principal.sub
            and case.first_review is None)


def ensure_not_blind(case: ReviewCase, principal: Principal | None) -> None:
    if is_blind(case, principal):
        raise BlindReview("You are this case's second reviewer: its first decisions, the first auditor's notes "
                          "(clarification requests, review-call notes, sign-off) and its trail stay hidden until "
                          "the review is submitted for sign-off.")


def may_see_second(case: ReviewCase, principal: Principal | None) -> bool:
    """The second review before disclosure: its reviewer and operators (who decide nothing)."""
    return case.first_review is not None or (principal is not None and (
        principal.sub == case.second_reviewer_id or principal.role == Role.OPERATOR))


def _blind_read(b: BlindDecision) -> BlindRead:
    return BlindRead(criterion_id=b.criterion_id, auditor_id=b.auditor_id, submitted=b.submitted, response=b.response,
                     reason_code=b.reason_code, note=b.note, what_would_satisfy=b.what_would_satisfy, at=b.at,
                     version=b.version)


def first_responses(case: ReviewCase) -> dict[str, str]:
    return dict((case.first_review or {}).get("responses") or {})


async def differences(session: AsyncSession, case: ReviewCase) -> list[DifferenceRead]:
    if case.first_review is None:
        return []
    first = first_responses(case)
    second = {c: b.response for c, b in (await of_case(session, case.id)).items()}
    settled = await resolutions(session, case.id)
    out = []
    for cid in domain.differences(first, second):
        r = settled.get(cid)
        out.append(DifferenceRead(criterion_id=cid, first=first[cid], second=second[cid],
                                  outcome=r.outcome if r else None, note=r.note if r else "",
                                  resolved_by=r.by if r else None, resolved_at=r.at if r else None))
    return out


async def read(session: AsyncSession, principal: Principal | None, case: ReviewCase) -> SecondReviewRead:
    made = await of_case(session, case.id)
    total = len(case.submitted_responses or {})
    return SecondReviewRead(
        double_review=case.double_review, second_reviewer_id=case.second_reviewer_id, decided=len(made), total=total,
        complete=bool(case.second_reviewer_id) and total > 0 and len(made) >= total,
        disclosed=case.first_review is not None,
        decisions=[_blind_read(b) for _, b in sorted(made.items())] if may_see_second(case, principal) else None,
        differences=await differences(session, case))


# --- assigning the second reviewer ------------------------------------------------------------


def _excluded(case: ReviewCase) -> set[str]:
    """Who may not review the case a second time: whoever holds it or decided any of it."""
    return {x for x in (case.holder_id, case.reviewer_id, *(case.deciders or [])) if x}


async def _choose(session: AsyncSession, case: ReviewCase, auditor_id: str | None, seed: int | str,
                  excluded: set[str]) -> str:
    """The auditor named (checked: an auditor, outside the review, free of a conflict), or
    one drawn with `seed` among those who are."""
    if auditor_id:
        staff = await session.get(Staff, auditor_id)
        if staff is None or staff.role != Role.AUDITOR.value:
            raise UnknownAuditor(f"{auditor_id} is not an auditor.", field="auditor_id", reason="not an auditor")
        if auditor_id in excluded:
            raise FourEyes("The second reviewer takes no part in the first review.", role="second_reviewer")
        await conflicts.check(session, auditor_id, case, who=staff.name or auditor_id,
                              action="review it a second time")
        return auditor_id
    rules = await conflicts.all_active(session)
    pool = [load for load in balance.eligible(await balance.loads(session), rules, case)
            if load.auditor_id not in excluded]
    drawn = balance.pick(pool, random.Random(seed))
    if drawn is None:
        raise NoEligibleAuditor("No auditor is free of a conflict and outside the first review.")
    return drawn.auditor_id


async def assign(session: AsyncSession, principal: Principal, case: ReviewCase, data: SecondAssign,
                 options_seed: str = "") -> ReviewCase:
    """Give the case its second reviewer: the one named, or one drawn at random (seeded:
    by default from the programme's seed and the submission) among the auditors who are
    free of a conflict and took no part in the case."""
    cases.ensure_auditor(principal)
    await directory.know(session, principal)
    if not case.double_review:
        raise NotDoubleReview("This case is not in the double-review sample.")
    domain.ensure_state(case.status, HOLDABLE, "given a second reviewer")
    seed = data.seed if data.seed is not None else f"{options_seed}:{case.submission_id}"
    chosen = await _choose(session, case, data.auditor_id, seed, _excluded(case))
    if case.second_reviewer_id == chosen:
        return case
    locked = await cases.lock(session, case.id, ReviewCase.second_reviewer_id.is_(None),
                              ReviewCase.status.in_([s.value for s in HOLDABLE]))
    if locked is None:
        now = await cases.current(session, case.id)
        if now.second_reviewer_id == chosen:
            return now
        domain.ensure_state(now.status, HOLDABLE, "given a second reviewer")
        raise SecondReviewerAssigned("The case has its second reviewer already.",
                                     second_reviewer_id=now.second_reviewer_id)
    if chosen in _excluded(locked):  # claimed meanwhile by the one drawn
        raise FourEyes("The second reviewer takes no part in the first review.", role="second_reviewer")
    locked.second_reviewer_id = chosen
    await cases.record(session, locked, trail.Actor.of(principal), "second_review.assigned",
                       after={"second_reviewer_id": chosen})
    return locked


# --- replacing the second reviewer ------------------------------------------------------------


def _ensure_replaceable(case: ReviewCase, action: str) -> str:
    """The second reviewer, when the second review may change hands (before disclosure)."""
    if case.second_reviewer_id is None:
        raise WrongState("The case has no second reviewer to replace: choose one.")
    if case.first_review is not None:
        raise WrongState("Both reviews were disclosed at the sign-off request: the second review is done.")
    domain.ensure_state(case.status, HOLDABLE, action)
    return case.second_reviewer_id


async def _release(session: AsyncSession, principal: Principal, case: ReviewCase, reason: str,
                   action: str) -> tuple[ReviewCase, str, int]:
    """Take the second review from its reviewer (the case locked): their blind decisions
    are discarded — the next reviewer starts afresh, unseen by anyone — and, if they made
    any, they count as having taken part (four eyes: they judged the case). The locked
    case, who was released and how many decisions were discarded."""
    cases.ensure_auditor(principal)
    await directory.know(session, principal)
    if not case.double_review:
        raise NotDoubleReview("This case is not in the double-review sample.")
    note = reason.strip()
    if not note:
        raise InvalidInput("reason: say why", field="reason", reason="say why")
    await conflicts.check(session, principal.sub, case, who="You", action="replace its second reviewer")
    previous = _ensure_replaceable(case, action)
    locked = await cases.lock(session, case.id, ReviewCase.second_reviewer_id == previous,
                              ReviewCase.first_review.is_(None), ReviewCase.status.in_([s.value for s in HOLDABLE]))
    if locked is None:
        now = await cases.current(session, case.id)
        domain.ensure_state(now.status, HOLDABLE, action)
        raise WrongState("The second review changed meanwhile (replaced, or disclosed at the sign-off request): "
                         "reload the case.")
    made = await of_case(session, case.id)
    if made:
        locked.deciders = sorted({*(locked.deciders or []), previous})
        await session.execute(delete(BlindDecision).where(BlindDecision.case_id == case.id)
                              .execution_options(synchronize_session=False))
    locked.second_reviewer_id = None
    await cases.record(session, locked, trail.Actor.of(principal), "second_review.released",
                       before={"second_reviewer_id": previous},
                       after={"second_reviewer_id": None, "discarded": len(made)}, reason=note)
    return locked, previous, len(made)


async def release(session: AsyncSession, principal: Principal, case: ReviewCase, data: SecondRelease) -> ReviewCase:
    """The second review goes back to nobody (its reviewer left, or cannot go on); a new
    one is assigned as the first was. The sign-off request waits for it."""
    locked, _, _ = await _release(session, principal, case, data.reason, "released from its second reviewer")
    return locked


async def replace(session: AsyncSession, principal: Principal, case: ReviewCase, data: SecondReplace,
                  options_seed: str = "") -> ReviewCase:
    """Another eligible auditor takes over the second review, in one step: the one named,
    or one drawn (never the one replaced, nor anyone in the first review, nor a conflicted
    auditor). The previous reviewer's blind decisions are discarded (`_release`)."""
    cases.ensure_auditor(principal)
    if not case.double_review:
        raise NotDoubleReview("This case is not in the double-review sample.")
    _ensure_replaceable(case, "given another second reviewer")
    if data.auditor_id == case.second_reviewer_id:
        raise InvalidInput("auditor_id: that auditor is the second reviewer already", field="auditor_id",
                           reason="already the second reviewer")
    seed = data.seed if data.seed is not None else f"{options_seed}:{case.submission_id}:{case.second_reviewer_id}"
    chosen = await _choose(session, case, data.auditor_id, seed, _excluded(case) | {case.second_reviewer_id})
    locked, previous, _ = await _release(session, principal, case, data.reason, "given another second reviewer")
    if chosen in _excluded(locked):  # claimed meanwhile by the one chosen
        raise FourEyes("The second reviewer takes no part in the first review.", role="second_reviewer")
    locked.second_reviewer_id = chosen
    await cases.record(session, locked, trail.Actor.of(principal), "second_review.assigned",
                       after={"second_reviewer_id": chosen, "replaces": previous}, reason=data.reason.strip())
    return locked


# --- the blind decisions ----------------------------------------------------------------------


async def decide(session: AsyncSession, principal: Principal, case: ReviewCase, criterion_id: str,
                 data: BlindWrite) -> BlindDecision:
    """The second reviewer decides one criterion (again, until the reviews are disclosed).
    The trail records that it was decided, not what: the content is disclosed with the
    sign-off request."""
    cases.ensure_auditor(principal)
    if not case.double_review:
        raise NotDoubleReview("This case is not in the double-review sample.")
    if case.second_reviewer_id != principal.sub:
        raise NotSecondReviewer("Only the case's second reviewer records the second review.")
    await conflicts.check(session, principal.sub, case, who="You", action="review it a second time")
    domain.ensure_state(case.status, HOLDABLE, "reviewed a second time")
    sub = cases.frozen(case)
    if criterion_id not in sub.responses:
        raise NotFound(f"{criterion_id} is not a criterion of this submission")
    submitted = sub.responses[criterion_id].response
    checked = domain.check_decision(submitted, domain.DecisionInput(
        response=data.response, reason_code=data.reason_code, explanation=data.note,
        what_would_satisfy=data.what_would_satisfy), [r.id for r in decisions.catalog_of(case).audit_reasons])
    locked = await cases.lock(session, case.id, ReviewCase.second_reviewer_id == principal.sub,
                              ReviewCase.first_review.is_(None), ReviewCase.status.in_([s.value for s in HOLDABLE]))
    if locked is None:
        now = await cases.current(session, case.id)
        domain.ensure_state(now.status, HOLDABLE, "reviewed a second time")
        if now.second_reviewer_id != principal.sub:
            raise NotSecondReviewer("Only the case's second reviewer records the second review.")
        raise WrongState("Both reviews were disclosed at the sign-off request: the second review is closed.")
    values = dict(auditor_id=principal.sub, submitted=submitted.value, response=checked.response.value,
                  reason_code=checked.reason_code, note=checked.explanation,
                  what_would_satisfy=checked.what_would_satisfy, at=utcnow())
    if not await insert_if_absent(session, BlindDecision, id=new_id(), case_id=case.id, criterion_id=criterion_id,
                                  version=1, **values):
        await session.execute(update(BlindDecision).where(BlindDecision.case_id == case.id,
                                                          BlindDecision.criterion_id == criterion_id)
                              .values(version=BlindDecision.version + 1, **values)
                              .execution_options(synchronize_session=False))
    saved = (await of_case(session, case.id))[criterion_id]
    await cases.record(session, locked, trail.Actor.of(principal), "second_review.decided",
                       after={"criterion": criterion_id, "version": saved.version})
    return saved


# --- at sign-off ------------------------------------------------------------------------------


async def disclose(session: AsyncSession, case: ReviewCase, made: dict[str, Decision], actor: trail.Actor) -> None:
    """At the sign-off request (the case locked by the caller): a double-reviewed case needs
    its complete second review; the first review as it stands is kept (what calibration
    compares) and both are written to the trail (once: a later request keeps the first)."""
    if not case.double_review:
        return
    second = await of_case(session, case.id)
    missing = [c for c in case.submitted_responses if c not in second]
    if not case.second_reviewer_id or missing:
        raise SecondReviewIncomplete(
            "The blind second review is not complete: " + (
                f"{len(missing)} criteria have no second decision yet." if case.second_reviewer_id
                else "the case has no second reviewer yet."),
            missing=len(missing),
            errors=[{"field": c, "reason": "no second decision yet"} for c in missing] or
            [{"field": "second_reviewer_id", "reason": "no second reviewer yet"}])
    if case.first_review is not None:
        return
    first = {c: d.response for c, d in sorted(made.items())}
    case.first_review = {"reviewer_id": case.holder_id, "responses": first}
    seconds = {c: b.response for c, b in sorted(second.items())}
    await cases.record(session, case, actor, "second_review.disclosed", after={
        "first_reviewer_id": case.holder_id, "second_reviewer_id": case.second_reviewer_id, "first": first,
        "second": seconds, "differences": domain.differences(first, seconds)})


async def resolve(session: AsyncSession, principal: Principal, locked: ReviewCase, criterion_id: str,
                  data: ResolutionWrite) -> Resolution:
    """The approver settles one difference: `locked` by `signoff.lock_for_approver` (whoever
    may approve may resolve: four eyes, no conflict, in sign-off)."""
    case = locked
    found = {d.criterion_id: d for d in await differences(session, locked)}
    if criterion_id not in found:
        raise NotFound(f"{criterion_id}: the two reviews do not differ on it")
    diff = found[criterion_id]
    if diff.outcome is not None:
        raise AlreadyResolved(f"{criterion_id} is resolved already ({diff.outcome.value}).")
    note = data.note.strip()
    if not note:
        raise InvalidInput("note: say why", field="note", reason="say why")
    actor = trail.Actor.of(principal)
    if data.outcome == Outcome.TAKE_SECOND:
        second = (await of_case(session, case.id))[criterion_id]
        await decisions.take_second(session, locked, criterion_id, second, actor,
                                    reason=f"second review taken: {note}")
    row = Resolution(case_id=case.id, criterion_id=criterion_id, first_response=diff.first.value,
                     second_response=diff.second.value, outcome=data.outcome.value, note=note, by=principal.sub,
                     at=utcnow())
    session.add(row)
    await cases.record(session, locked, actor, "second_review.resolved", after={
        "criterion": criterion_id, "outcome": data.outcome.value, "first": diff.first.value,
        "second": diff.second.value}, reason=note)
    return row


async def ensure_resolved(session: AsyncSession, case: ReviewCase) -> None:
    open_ = [d.criterion_id for d in await differences(session, case) if d.outcome is None]
    if open_:
        raise DifferencesUnresolved(
            f"{len(open_)} difference(s) between the two reviews need a resolution: {', '.join(open_)}.",
            unresolved=len(open_), errors=[{"field": c, "reason": "no resolution yet"} for c in open_])

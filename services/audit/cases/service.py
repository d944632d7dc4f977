"""Review cases: opening one per submission (from the submission event or the workflow's
review request, whichever comes first), receiving audit's copy of the submission, who
holds a case (claim, assign, hand back), the review clock (due date, reminder,
escalation), withdrawal, and the automatic review of "auto" mode.

Every change of a case starts with one conditional UPDATE of its row (`lock`): its
WHERE clause is the rule (e.g. "nobody holds it"), so of two concurrent claims exactly one
changes the row and the other finds it taken, on SQLite and PostgreSQL alike; the row
stays locked until commit, so the trail records of one case never interleave.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from certification import gateway
from certification.contract import CaseHolder, Signal
from services.audit import directory, domain
from services.audit.conflicts import service as conflicts
from services.audit.trail import service as trail
from services.audit.config import AuditOptions
from services.audit.domain import CLOSED, HOLDABLE, RELEASABLE, CaseState
from services.audit.errors import CaseTaken, Forbidden, FourEyes, NotFound, NotHolder, SubmissionNotReceived, UnknownAuditor
from services.audit.models import Conflict, ReviewCase, Signoff, Staff, TrailRecord
from shared.contracts.events import (
    CaseAssigned,
    CaseOpened,
    CaseReleased,
    ReviewCompleted,
    ReviewDueSoon,
    ReviewOverdue,
    Subject,
    TrailCheckpointed,
    make_event,
)
from shared.contracts.submission import FrozenSubmission
from shared.contracts.vocabulary import ReviewReminderKind
from shared.infra.auth import Principal, Role
from shared.infra.orm import insert_if_absent, new_id, utcnow
from shared.infra.outbox import add_event


class AssignCreate(BaseModel):
    submission_ids: list[str] = Field(min_length=1, max_length=200, description="cases (by submission) to assign")
    auditor_id: str = Field(min_length=1, max_length=64)


async def lock(session: AsyncSession, case_id: str, *conditions: Any) -> ReviewCase | None:
    """Bump the case's version where `conditions` hold; the row as it is now, or None if
    the conditions did not hold (nothing was changed)."""
    result = await session.execute(update(ReviewCase).where(ReviewCase.id == case_id, *conditions)
                                   .values(version=ReviewCase.version + 1)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return None
    return await session.get(ReviewCase, case_id, populate_existing=True)


async def current(session: AsyncSession, case_id: str) -> ReviewCase:
    case = await session.get(ReviewCase, case_id, populate_existing=True)
    if case is None:
        raise NotFound(f"no review case {case_id}")
    return case


def publish(session: AsyncSession, case: ReviewCase, subject: str, payload, correlation_id: str = ""):
    return add_event(session, make_event(subject, payload, submission_id=case.submission_id, city_id=case.city_id,
                                         correlation_id=correlation_id or case.submission_id))


def chain(case: ReviewCase) -> str:
    return trail.case_chain(case.id)


async def record(session: AsyncSession, case: ReviewCase, actor: trail.Actor, action: str,
                 **kwargs) -> TrailRecord:
    """Append to the case's trail and publish its new head outside audit's database (in
    the same transaction): reporting's ledger keeps every checkpoint, so a trail whose tail
    is deleted and head rolled back no longer matches what was published."""
    added = await trail.append(session, chain(case), actor, action, case_id=case.id, **kwargs)
    await publish(session, case, Subject.TRAIL_CHECKPOINTED, TrailCheckpointed(
        submission_id=case.submission_id, case_id=case.id, chain=added.chain, seq=added.seq, head=added.hash,
        key_id=added.key_id, at=added.at))
    return added


# --- finding cases ----------------------------------------------------------------------------


async def by_submission(session: AsyncSession, submission_id: str) -> ReviewCase:
    case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == submission_id))
    if case is None:
        raise NotFound(f"no review case for submission {submission_id}")
    return case


async def by_id(session: AsyncSession, case_id: str) -> ReviewCase:
    case = await session.get(ReviewCase, case_id)
    if case is None:
        raise NotFound(f"no review case {case_id}")
    return case


def frozen(case: ReviewCase) -> FrozenSubmission:
    if not case.received_at:
        raise SubmissionNotReceived("The submission's content has not reached audit yet; try again in a moment.")
    return FrozenSubmission.model_validate(case.submission)


# --- opening ----------------------------------------------------------------------------------


async def open_case(session: AsyncSession, options: AuditOptions, *, submission_id: str, city_id: str | None,
                    correlation_id: str, city_name: str = "", cycle: str = "", catalog_version: str = "",
                    actor: trail.Actor = trail.INTAKE) -> tuple[ReviewCase, bool]:
    """Get or create the submission's case; only its creator records and publishes the opening.

    The subscriber (on submission.submitted) and the review activity may both get here at
    the same moment: the insert is conflict-safe, so neither fails and one case exists."""
    now = utcnow()
    known = await directory.city(session, city_id)
    created = await insert_if_absent(
        session, ReviewCase, id=new_id(), submission_id=submission_id, city_id=city_id,
        city_name=city_name or (known.name if known else ""), state=known.state if known else "",
        country=known.country if known else "", region=known.region if known else None,
        population_band=known.population_band if known else None, cycle=cycle, catalog_version=catalog_version,
        status=CaseState.QUEUED.value, submission={}, submitted_responses={}, audited_responses={}, corrections=0,
        deciders=[], opened_at=now, due_at=domain.due_date(now, options.review_sla), version=0,
        double_review=domain.picked_for_double_review(options.double_review_seed, submission_id,
                                                      options.double_review_share))
    case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == submission_id)
                                .execution_options(populate_existing=True))
    assert case is not None
    if created:
        await record(session, case, actor, "case.opened", after={
            "submission_id": submission_id, "city_id": city_id, "due_at": _iso(case.due_at),
            "double_review": case.double_review})
        await publish(session, case, Subject.REVIEW_CASE_OPENED, CaseOpened(
            submission_id=submission_id, case_id=case.id, city_id=city_id, city_name=case.city_name, cycle=cycle,
            due_at=case.due_at), correlation_id)
    return case, created


def submission_hash(sub: FrozenSubmission) -> str:
    return hashlib.sha256(domain.canonical_json(sub.model_dump(mode="json"))).hexdigest()


async def receive(session: AsyncSession, case: ReviewCase, sub: FrozenSubmission,
                  actor: trail.Actor = trail.WORKFLOW) -> ReviewCase:
    """Keep audit's own copy of what the city submitted (once)."""
    city = sub.city
    locked = await lock(session, case.id, ReviewCase.received_at.is_(None))
    if locked is None:
        return await current(session, case.id)
    locked.submission = sub.model_dump(mode="json")
    locked.submitted_responses = {k: str(v) for k, v in sub.answers().items()}
    locked.received_at = utcnow()
    locked.city_id, locked.city_name, locked.state = city.id, city.name, domain.state_code(city.country, city.state)
    locked.country, locked.region, locked.population_band = city.country.upper(), city.region, city.population_band
    locked.cycle, locked.catalog_version = sub.cycle, sub.catalog_version
    await record(session, locked, actor, "case.received", after={
        "responses": len(sub.responses), "evidence": len(sub.evidence), "submission_sha256": submission_hash(sub)})
    return locked


# --- holding ----------------------------------------------------------------------------------


def ensure_auditor(principal: Principal) -> None:
    if principal.role != Role.AUDITOR:
        raise Forbidden("Only auditors act on review cases; operators read them.")


async def claim(session: AsyncSession, principal: Principal, case: ReviewCase) -> ReviewCase:
    """Take a case from the queue. Of two auditors claiming at once, one holds it and the
    other is told it is taken (`case_taken`); a conflicted auditor cannot claim it."""
    ensure_auditor(principal)
    await directory.know(session, principal)
    await conflicts.check(session, principal.sub, case, who="You", action="claim")
    ensure_not_second_reviewer(case, principal.sub)
    locked = await lock(session, case.id, ReviewCase.holder_id.is_(None),
                        ReviewCase.status.in_([s.value for s in HOLDABLE]), not_second_reviewer(principal.sub))
    if locked is None:
        now = await current(session, case.id)
        if now.holder_id == principal.sub:
            return now  # claimed already (a double click)
        if now.holder_id:
            holder = (await directory.names(session, {now.holder_id}))[now.holder_id]
            raise CaseTaken(f"{holder} holds this case.", holder_id=now.holder_id, holder=holder)
        domain.ensure_state(now.status, HOLDABLE, "claimed")
        ensure_not_second_reviewer(now, principal.sub)  # made second reviewer meanwhile
        raise AssertionError("unreachable: the case is free and holdable")  # pragma: no cover
    return await _hold(session, locked, principal.sub, trail.Actor.of(principal), "case.claimed")


async def assign(session: AsyncSession, principal: Principal, case: ReviewCase, auditor_id: str) -> ReviewCase:
    """Give a case nobody holds to an auditor (not a conflicted one)."""
    ensure_auditor(principal)
    await directory.know(session, principal)
    staff = await session.get(Staff, auditor_id)
    if staff is None or staff.role != Role.AUDITOR.value:
        raise UnknownAuditor(f"{auditor_id} is not an auditor.", field="auditor_id", reason="not an auditor")
    await conflicts.check(session, auditor_id, case, who=staff.name or auditor_id, action="be assigned")
    ensure_not_second_reviewer(case, auditor_id)
    locked = await lock(session, case.id, ReviewCase.holder_id.is_(None),
                        ReviewCase.status.in_([s.value for s in HOLDABLE]), not_second_reviewer(auditor_id))
    if locked is None:
        now = await current(session, case.id)
        if now.holder_id == auditor_id:
            return now
        if now.holder_id:
            holder = (await directory.names(session, {now.holder_id}))[now.holder_id]
            raise CaseTaken(f"{holder} holds this case.", holder_id=now.holder_id, holder=holder)
        domain.ensure_state(now.status, HOLDABLE, "assigned")
        ensure_not_second_reviewer(now, auditor_id)  # made second reviewer meanwhile
        raise AssertionError("unreachable")  # pragma: no cover
    return await _hold(session, locked, auditor_id, trail.Actor.of(principal), "case.assigned")


def not_second_reviewer(auditor_id: str):
    """The lock's condition for the same rule, checked again on the row as it is written (a
    second reviewer chosen meanwhile by another transaction is seen)."""
    return or_(ReviewCase.second_reviewer_id.is_(None), ReviewCase.second_reviewer_id != auditor_id)


def ensure_not_second_reviewer(case: ReviewCase, auditor_id: str) -> None:
    """The two reviews of a double-reviewed case are by two people."""
    if case.second_reviewer_id == auditor_id:
        raise FourEyes("The case's second reviewer cannot also hold it.", role="second_reviewer")


async def _hold(session: AsyncSession, case: ReviewCase, auditor_id: str, actor: trail.Actor,
                action: str) -> ReviewCase:
    before = {"status": case.status, "holder_id": case.holder_id}
    case.holder_id, case.held_since = auditor_id, utcnow()
    case.status = domain.state_after_claim(case.status).value
    await record(session, case, actor, action, before=before,
                 after={"status": case.status, "holder_id": auditor_id})
    await publish(session, case, Subject.CASE_ASSIGNED, CaseAssigned(
        submission_id=case.submission_id, case_id=case.id, auditor_id=auditor_id, assigned_by=actor.id,
        due_at=case.due_at))
    await _tell_holder(session, case)
    return case


async def release(session: AsyncSession, principal: Principal, case: ReviewCase, reason: str = "") -> ReviewCase:
    """The holder hands the case back to the queue (its decisions stay with the case); a
    case awaiting sign-off too, which withdraws the request (`domain.RELEASABLE`)."""
    ensure_auditor(principal)
    locked = await lock(session, case.id, ReviewCase.holder_id == principal.sub,
                        ReviewCase.status.in_([s.value for s in RELEASABLE]))
    if locked is None:
        now = await current(session, case.id)
        domain.ensure_state(now.status, RELEASABLE, "handed back")
        raise NotHolder("You do not hold this case.")
    return await _release(session, locked, trail.Actor.of(principal), reason)


async def release_held(session: AsyncSession, case: ReviewCase, actor: trail.Actor, *, reason: str) -> None:
    locked = await lock(session, case.id, ReviewCase.holder_id == case.holder_id,
                        ReviewCase.status.in_([s.value for s in HOLDABLE]))
    if locked is not None:
        await _release(session, locked, actor, reason)


async def _release(session: AsyncSession, case: ReviewCase, actor: trail.Actor, reason: str) -> ReviewCase:
    before = {"status": case.status, "holder_id": case.holder_id}
    holder = case.holder_id or ""
    if case.status == CaseState.SIGNOFF:
        # The sign-off request goes with the holder: whoever picks the case up submits again.
        session.add(Signoff(case_id=case.id, action="withdrawn", by=actor.id, at=utcnow(), comments=reason,
                            decisions_hash=""))
        case.reviewer_id, case.signoff_requested_at = None, None
    case.holder_id, case.held_since = None, None
    case.status = domain.state_after_release(case.status).value
    await record(session, case, actor, "case.released", before=before,
                 after={"status": case.status, "holder_id": None}, reason=reason)
    await publish(session, case, Subject.CASE_RELEASED, CaseReleased(
        submission_id=case.submission_id, case_id=case.id, auditor_id=holder, reason=reason))
    await _tell_holder(session, case)
    return case


async def _tell_holder(session: AsyncSession, case: ReviewCase) -> None:
    """The workflow keeps who holds its review (its status, the WwcAuditor search attribute)."""
    await gateway.signal(session, case.submission_id, Signal.CASE_HOLDER,
                         CaseHolder(auditor_id=case.holder_id, at=utcnow()))


async def ensure_holder(session: AsyncSession, principal: Principal, case: ReviewCase, *, action: str) -> None:
    """For the holder's own work on the case (decisions, rounds, notes, sign-off request)."""
    ensure_auditor(principal)
    if case.holder_id != principal.sub:
        domain.ensure_state(case.status, domain.OPEN_STATES, action)
        raise NotHolder("Claim the case first: only its holder works on it." if not case.holder_id
                        else "Another auditor holds this case.")
    await conflicts.check(session, principal.sub, case, who="You", action=action)


# --- the review clock -------------------------------------------------------------------------


async def set_due(session: AsyncSession, case_id: str, due_at: datetime) -> None:
    """The workflow moved the due date (a clarification round paused the clock)."""
    case = await lock(session, case_id, ReviewCase.status.not_in([s.value for s in CLOSED]))
    if case is None or case.due_at == due_at:
        return
    before = _iso(case.due_at)
    case.due_at = due_at
    await record(session, case, trail.WORKFLOW, "case.due_moved", before={"due_at": before},
                 after={"due_at": _iso(due_at)}, reason="the review clock stopped during a clarification round")


async def remind(session: AsyncSession, case_id: str, kind: ReviewReminderKind, due_at: datetime, correlation_id: str = "") -> bool:
    """A reminder to the holder before the due date (`due_soon`) or an escalation to
    operators once it passed (`overdue`): published once per due date (the activity may
    be retried). False when nothing was sent (already sent, or the case is closed)."""
    column = ReviewCase.reminded_for if kind == ReviewReminderKind.DUE_SOON else ReviewCase.escalated_for
    open_ = ReviewCase.status.not_in([s.value for s in CLOSED])
    case = await lock(session, case_id, open_, (column.is_(None)) | (column != due_at))
    if case is None:
        return False
    if kind == ReviewReminderKind.DUE_SOON:
        case.reminded_for = due_at
        payload: Any = ReviewDueSoon(submission_id=case.submission_id, case_id=case.id, auditor_id=case.holder_id,
                                     due_at=due_at)
        subject, action = Subject.REVIEW_DUE_SOON, "review.reminded"
    else:
        case.escalated_for = due_at
        payload = ReviewOverdue(submission_id=case.submission_id, case_id=case.id, auditor_id=case.holder_id,
                                due_at=due_at)
        subject, action = Subject.REVIEW_OVERDUE, "review.escalated"
    await record(session, case, trail.WORKFLOW, action, after={"due_at": _iso(due_at), "holder_id": case.holder_id})
    await publish(session, case, subject, payload, correlation_id)
    return True


# --- closing ----------------------------------------------------------------------------------


async def withdraw(session: AsyncSession, submission_id: str, reason: str, *, by_name: str = "") -> None:
    case = await session.scalar(select(ReviewCase).where(ReviewCase.submission_id == submission_id))
    if case is None:
        return
    locked = await lock(session, case.id, ReviewCase.status.not_in([s.value for s in CLOSED]))
    if locked is None:
        return
    before = {"status": locked.status, "holder_id": locked.holder_id}
    locked.status = CaseState.WITHDRAWN.value
    locked.completed_at = utcnow()
    await record(session, locked, trail.INTAKE, "case.withdrawn", before=before,
                 after={"status": locked.status, **({"by_name": by_name} if by_name else {})},
                 reason=reason or "the city withdrew the submission")


async def complete_automatically(session: AsyncSession, case: ReviewCase, correlation_id: str) -> ReviewCase:
    """Review mode "auto" (benchmarks, tests): every response confirmed as submitted."""
    locked = await lock(session, case.id, ReviewCase.status.not_in([s.value for s in CLOSED]))
    if locked is None:
        return await current(session, case.id)  # a retried activity: completed and published already
    now = utcnow()
    before = {"status": locked.status}
    locked.audited_responses = dict(locked.submitted_responses)
    locked.corrections = 0
    locked.status, locked.completed_at, locked.approved_at = CaseState.COMPLETED.value, now, now
    await record(session, locked, trail.WORKFLOW, "review.confirmed_automatically", before=before,
                 after={"status": locked.status}, reason="review mode auto")
    await publish(session, locked, Subject.REVIEW_COMPLETED, ReviewCompleted(
        submission_id=locked.submission_id, case_id=locked.id, corrections=0, city_id=locked.city_id,
        final_responses=locked.audited_responses, changes=[], approved_at=now), correlation_id)
    return locked


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


async def declare_conflict(session: AsyncSession, principal: Principal,
                           data: conflicts.ConflictCreate) -> tuple[Conflict, list[str]]:
    """An auditor declares a conflict of interest: the open cases it covers that they hold
    go back to the queue; (the conflict, those cases' submission ids)."""
    row, new = await conflicts.declare(session, principal, data)
    if not new:
        return row, []
    rule = conflicts.rule_of(row)
    held = (await session.scalars(select(ReviewCase).where(
        ReviewCase.holder_id == principal.sub, ReviewCase.status.in_([s.value for s in HOLDABLE])))).all()
    released = []
    for case in held:
        if rule.matches(conflicts.place_of(case)):
            await release_held(session, case, trail.Actor.of(principal), reason=f"conflict of interest declared ({rule.key})")
            released.append(case.submission_id)
    return row, released

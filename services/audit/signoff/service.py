"""Four-eyes sign-off. The holder submits a case whose every criterion is decided and
which has no open round; a second auditor who took no part in the review — never
submitted it for sign-off, never decided any of its criteria (superseded decisions
included: `ReviewCase.deciders`), and not conflicted — approves it or returns it with
comments. The holder may withdraw the request by handing the case back (`cases.release`),
so a case whose every auditor took part is never stuck in sign-off.

Approval names the hash of the decisions the approver read (`domain.decisions_hash`) and
is refused if the set changed; it records the approver, the time and that hash, and
publishes `wwc.audit.review.completed` with the final responses and every change. The
workflow is signalled (`review_completed`) only then: cities never see decisions before.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from certification import gateway
from certification.activities import ReviewOutcome
from certification.contract import Signal
from services.audit import directory, domain
from services.audit.second_review import service as second_review
from services.audit.cases import service as cases
from services.audit.conflicts import service as conflicts
from services.audit.decisions import judged
from services.audit.decisions import service as decisions
from services.audit.trail import service as trail
from services.audit.domain import CaseState
from services.audit.errors import ChangedSinceDecided, DecisionsChanged, DecisionsIncomplete, RoundOpen
from services.audit.models import ReviewCase, Signoff
from shared.contracts.events import ReviewCompleted, SignoffRequested, SignoffReturned, Subject
from shared.infra.auth import Principal
from shared.infra.orm import utcnow


class SignoffApproval(BaseModel):
    decisions_hash: str = Field(pattern=r"^[0-9a-f]{64}$",
                                description="the `decisions_hash` of the sign-off you read: approval is refused "
                                            "if the decisions changed since")


class SignoffReturn(BaseModel):
    comments: str = Field(min_length=1, max_length=4000, description="what the reviewer should look at again")


class SignoffEntry(BaseModel):
    action: str
    by: str
    at: datetime
    comments: str = ""
    decisions_hash: str


class SignoffRead(BaseModel):
    status: str
    reviewer_id: str | None = None
    decisions_hash: str = Field(description="SHA-256 of the case's decisions now (what an approval would record)")
    decided: int
    total: int
    requested_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    approved_hash: str | None = None
    history: list[SignoffEntry] = Field(default_factory=list)
    changed_since_decided: list[judged.ChangedDecision] = Field(
        default_factory=list, description="decisions whose criterion got new answers or evidence since, with every "
                                          "change: sign-off waits until each is decided again or confirmed with a note")
    reconfirmed: list[judged.ReconfirmedDecision] = Field(
        default_factory=list, description="decisions confirmed with a note after their criterion changed")
    took_part: list[str] = Field(default_factory=list,
                                 description="everyone who decided a criterion or submitted the review for sign-off, "
                                             "at any time: none of them may sign it off")


async def history(session: AsyncSession, case_id: str) -> list[Signoff]:
    rows = await session.scalars(select(Signoff).where(Signoff.case_id == case_id).order_by(Signoff.at))
    return list(rows.all())


async def read(session: AsyncSession, case: ReviewCase) -> SignoffRead:
    made = await decisions.of_case(session, case.id)
    steps = await history(session, case.id)
    mats = await decisions.materials(session, case) if case.received_at else {}
    return SignoffRead(
        changed_since_decided=judged.changed(made, mats), reconfirmed=judged.reconfirmed(made),
        took_part=domain.took_part(deciders=[*(case.deciders or []), *(d.decided_by for d in made.values()),
                                             *filter(None, [case.second_reviewer_id])],
                                   requesters=[s.by for s in steps if s.action == "requested"]),status=case.status, reviewer_id=case.reviewer_id, decisions_hash=decisions.hash_of(made.values()),
                       decided=len(made), total=len(case.submitted_responses), requested_at=case.signoff_requested_at,
                       approved_by=case.approved_by, approved_at=case.approved_at, approved_hash=case.decisions_hash,
                       history=[SignoffEntry(action=s.action, by=s.by, at=s.at, comments=s.comments,
                                             decisions_hash=s.decisions_hash)
                                for s in steps])


async def request(session: AsyncSession, principal: Principal, case: ReviewCase) -> ReviewCase:
    await cases.ensure_holder(session, principal, case, action="submit for sign-off")
    if case.status == CaseState.CLARIFICATION:
        raise RoundOpen("A clarification round is open: the review is submitted once it is answered or due.")
    domain.ensure_state(case.status, {CaseState.IN_REVIEW}, "submitted for sign-off")
    sub = cases.frozen(case)
    locked = await cases.lock(session, case.id, ReviewCase.holder_id == principal.sub,
                              ReviewCase.status == CaseState.IN_REVIEW.value)
    if locked is None:
        now = await cases.current(session, case.id)
        domain.ensure_state(now.status, {CaseState.IN_REVIEW}, "submitted for sign-off")
        raise DecisionsChanged("The case changed meanwhile: reload it.")
    made = await decisions.of_case(session, case.id)
    missing = domain.missing_decisions(list(sub.responses), made)
    if missing:
        raise DecisionsIncomplete(f"{len(missing)} criteria have no decision yet: {', '.join(missing)}",
                                  errors=[{"field": cid, "reason": "no decision yet"} for cid in missing],
                                  missing=len(missing))
    await ensure_none_changed(session, locked, made)
    await second_review.disclose(session, locked, made, trail.Actor.of(principal))
    digest = decisions.hash_of(made.values())
    now = utcnow()
    locked.status, locked.reviewer_id, locked.signoff_requested_at = CaseState.SIGNOFF.value, principal.sub, now
    session.add(Signoff(case_id=case.id, action="requested", by=principal.sub, at=now, decisions_hash=digest))
    await cases.record(session, locked, trail.Actor.of(principal), "signoff.requested",
                       before={"status": CaseState.IN_REVIEW.value},
                       after={"status": locked.status, "decisions_hash": digest,
                              "changes": sum(d.response != d.submitted for d in made.values())})
    await cases.publish(session, locked, Subject.SIGNOFF_REQUESTED, SignoffRequested(
        submission_id=locked.submission_id, case_id=locked.id, reviewer_id=principal.sub))
    return locked


async def ensure_none_changed(session: AsyncSession, case: ReviewCase, made: dict) -> None:
    """Every decision judged the newest answers and evidence (or was confirmed with a note)."""
    open_ = judged.changed(made, await decisions.materials(session, case))
    if open_:
        raise ChangedSinceDecided(
            f"{len(open_)} decision(s) changed since decided: {', '.join(c.criterion_id for c in open_)}. Decide "
            f"them again or confirm them with a note.", changed=len(open_),
            errors=[{"field": c.criterion_id, "reason": "changed since decided"} for c in open_])


async def lock_for_approver(session: AsyncSession, principal: Principal, case: ReviewCase, action: str) -> ReviewCase:
    """The case locked for a second auditor's verdict, once every rule holds."""
    cases.ensure_auditor(principal)
    await directory.know(session, principal)
    domain.ensure_state(case.status, {CaseState.SIGNOFF}, action)
    await conflicts.check(session, principal.sub, case, who="You", action="sign off")
    locked = await cases.lock(session, case.id, ReviewCase.status == CaseState.SIGNOFF.value)
    if locked is None:
        now = await cases.current(session, case.id)
        domain.ensure_state(now.status, {CaseState.SIGNOFF}, action)
        raise DecisionsChanged("The case changed meanwhile: reload it.")  # pragma: no cover
    made = await decisions.of_case(session, case.id)
    requested = [s.by for s in await history(session, case.id) if s.action == "requested"]
    # A double-reviewed case's second reviewer took part too (their decisions may be taken).
    domain.ensure_four_eyes(principal.sub, reviewer=locked.reviewer_id, requested_by=requested,
                            decided_by=[*(locked.deciders or []), *(d.decided_by for d in made.values()),
                                        *filter(None, [locked.second_reviewer_id])])
    return locked


async def approve(session: AsyncSession, principal: Principal, case: ReviewCase,
                  data: SignoffApproval) -> ReviewCompleted:
    locked = await lock_for_approver(session, principal, case, "approved")
    made = await decisions.of_case(session, case.id)
    await ensure_none_changed(session, locked, made)  # an answer to an expired round may arrive late
    await second_review.ensure_resolved(session, locked)
    digest = decisions.hash_of(made.values())
    if digest != data.decisions_hash:
        raise DecisionsChanged("The decisions are not the ones you read: reload the sign-off page.",
                               decisions_hash=digest)
    now = utcnow()
    final = decisions.final_responses(locked, made)
    changed = decisions.changes(made.values())
    locked.status, locked.completed_at = CaseState.COMPLETED.value, now
    locked.approved_by, locked.approved_at, locked.decisions_hash = principal.sub, now, digest
    locked.audited_responses, locked.corrections = final, len(changed)
    session.add(Signoff(case_id=case.id, action="approved", by=principal.sub, at=now, decisions_hash=digest))
    approval = await cases.record(session, locked, trail.Actor.of(principal), "signoff.approved",
                                  before={"status": CaseState.SIGNOFF.value},
                                  after={"status": locked.status, "decisions_hash": digest,
                                         "approved_by": principal.sub, "changes": [c.criterion for c in changed]})
    completed = ReviewCompleted(
        submission_id=locked.submission_id, case_id=locked.id, corrections=len(changed), city_id=locked.city_id,
        final_responses=final, changes=changed, reviewer_id=locked.reviewer_id, approved_by=principal.sub,
        approved_at=now, decisions_hash=digest, trail_head=approval.hash)
    await cases.publish(session, locked, Subject.REVIEW_COMPLETED, completed)
    await gateway.signal(session, locked.submission_id, Signal.REVIEW_COMPLETED, ReviewOutcome(
        case_id=locked.id, audited_responses=final, corrections=len(changed), changes=changed,
        approved_by=principal.sub))
    return completed


async def return_case(session: AsyncSession, principal: Principal, case: ReviewCase,
                      data: SignoffReturn) -> ReviewCase:
    """Back to the reviewer (who still holds it) with the comments, to work on again."""
    locked = await lock_for_approver(session, principal, case, "returned")
    made = await decisions.of_case(session, case.id)
    digest = decisions.hash_of(made.values())
    comments = data.comments.strip()
    locked.status = CaseState.IN_REVIEW.value
    session.add(Signoff(case_id=case.id, action="returned", by=principal.sub, at=utcnow(), comments=comments,
                        decisions_hash=digest))
    await cases.record(session, locked, trail.Actor.of(principal), "signoff.returned",
                       before={"status": CaseState.SIGNOFF.value},
                       after={"status": locked.status, "decisions_hash": digest}, reason=comments)
    await cases.publish(session, locked, Subject.SIGNOFF_RETURNED, SignoffReturned(
        submission_id=locked.submission_id, case_id=locked.id, reviewer_id=locked.reviewer_id or "",
        returned_by=principal.sub, comments=comments))
    return locked

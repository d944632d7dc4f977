"""The review call with the city: an agenda made from the criteria flagged so far
(`domain.agenda`), and notes of the call. A decision made because of the call links to its
note (`call_note_id`), so each note shows the decisions it changed."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import domain
from services.audit.cases import service as cases
from services.audit.decisions import service as decisions
from services.audit.cases import evidence
from services.audit.rounds import service as rounds
from services.audit.trail import service as trail
from services.audit.domain import DECIDABLE
from services.audit.errors import InvalidInput, NotHolder
from services.audit.models import CallNote, ReviewCase
from shared.infra.auth import Principal
from shared.infra.orm import utcnow


class CallNoteCreate(BaseModel):
    held_at: AwareDatetime
    attendees: str = Field(default="", max_length=2000)
    notes: str = Field(min_length=1, max_length=20000)
    criteria: list[str] = Field(default_factory=list, max_length=100, description="agenda items discussed")


class CallNoteRead(BaseModel):
    id: str
    held_at: datetime
    attendees: str
    notes: str
    criteria: list[str]
    recorded_by: str
    recorded_at: datetime
    decisions: list[str] = Field(default_factory=list, description="criteria whose decision cites this note")


class AgendaItemRead(BaseModel):
    criterion_id: str
    reasons: list[str]
    submitted: str
    decided: str | None = None


async def of_case(session: AsyncSession, case_id: str) -> list[CallNote]:
    rows = await session.scalars(select(CallNote).where(CallNote.case_id == case_id).order_by(CallNote.held_at))
    return list(rows.all())


async def reads(session: AsyncSession, case: ReviewCase) -> list[CallNoteRead]:
    linked: dict[str, list[str]] = {}
    for d in (await decisions.of_case(session, case.id)).values():
        if d.call_note_id:
            linked.setdefault(d.call_note_id, []).append(d.criterion_id)
    return [CallNoteRead(id=n.id, held_at=n.held_at, attendees=n.attendees, notes=n.notes, criteria=list(n.criteria),
                         recorded_by=n.recorded_by, recorded_at=n.recorded_at,
                         decisions=sorted(linked.get(n.id, []))) for n in await of_case(session, case.id)]


async def agenda(session: AsyncSession, case: ReviewCase) -> list[AgendaItemRead]:
    sub = cases.frozen(case)
    made = await decisions.of_case(session, case.id)
    all_rounds = await rounds.of_case(session, case.id)
    counts = {cid: len(items) for cid, items in
              evidence.by_criterion(evidence.of_case(case, all_rounds)).items()}
    order = list(decisions.catalog_of(case).criterion_ids)
    items = domain.agenda(order, {k: str(v) for k, v in sub.answers().items()},
                          {cid: d.response for cid, d in made.items()},
                          [domain.RoundFacts(tuple(r.criteria), r.status) for r in all_rounds], counts)
    return [AgendaItemRead(criterion_id=i.criterion, reasons=[r.value for r in i.reasons], submitted=i.submitted,
                           decided=i.decided) for i in items]


async def add(session: AsyncSession, principal: Principal, case: ReviewCase, data: CallNoteCreate) -> CallNote:
    """Notes are the holder's (the reviewer leads the call); they are never edited:
    a correction is a new note."""
    await cases.ensure_holder(session, principal, case, action="record a call for")
    domain.ensure_state(case.status, DECIDABLE, "given call notes")
    sub = cases.frozen(case)
    unknown = [c for c in data.criteria if c not in sub.responses]
    if unknown:
        raise InvalidInput(f"criteria: not criteria of this submission: {', '.join(unknown)}", field="criteria",
                           reason="not criteria of this submission")
    if data.held_at > utcnow():
        raise InvalidInput("held_at: the call has not happened yet", field="held_at",
                           reason="a call that was held: not in the future")
    locked = await cases.lock(session, case.id, ReviewCase.holder_id == principal.sub)
    if locked is None:
        raise NotHolder("You no longer hold this case.")
    note = CallNote(case_id=case.id, held_at=data.held_at, attendees=data.attendees.strip(), notes=data.notes.strip(),
                    criteria=list(dict.fromkeys(data.criteria)), recorded_by=principal.sub, recorded_at=utcnow())
    session.add(note)
    await session.flush()
    await cases.record(session, locked, trail.Actor.of(principal), "call.noted",
                       after={"note_id": note.id, "held_at": note.held_at.isoformat(), "criteria": note.criteria},
                       reason=note.notes)
    return note

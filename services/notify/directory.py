"""What notify knows of people, cities, submissions and review cases (kept from events, by
consumers with no mail in them), and who receives a kind of mail."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import domain
from services.notify.domain import Kind, Recipient
from services.notify.models import CaseHolder, CityInfo, ClarificationRound, Contact, OptOut, Person
from shared.contracts.events import (
    CaseAssigned,
    CaseReleased,
    CityProfile,
    ClarificationRequested,
    SubmissionSubmitted,
    UserRegistered,
)
from shared.i18n import language
from shared.infra.auth import Role
from shared.infra.orm import insert_if_absent


class NotYetKnown(LookupError):
    """A fact this mail needs has not arrived yet: the handler retries instead of skipping
    (docs/DECISIONS.md, "Handlers that need an earlier fact retry instead of skipping")."""


# --- kept from events -------------------------------------------------------------------------


async def remember_person(session: AsyncSession, p: UserRegistered) -> None:
    person = await session.get(Person, p.user_id)
    if person is None:
        await insert_if_absent(session, Person, user_id=p.user_id, email=p.email.lower(), name=p.name, role=p.role,
                               city_id=p.city_id, language=language(p.language),
                               timezone=p.timezone if p.timezone and _valid_zone(p.timezone) else None)
        return
    person.email, person.name, person.role = p.email.lower(), p.name, p.role
    person.city_id, person.language = p.city_id, language(p.language)
    if p.timezone and _valid_zone(p.timezone):  # chosen in their settings (user.updated)
        person.timezone = p.timezone


async def remember_city(session: AsyncSession, p: CityProfile) -> None:
    city = await session.get(CityInfo, p.city_id)
    tz = p.timezone if _valid_zone(p.timezone) else "UTC"
    if city is None:
        await insert_if_absent(session, CityInfo, city_id=p.city_id, name=p.name, timezone=tz,
                               language=language(p.language))
        return
    city.name, city.timezone, city.language = p.name, tz, language(p.language)


def _valid_zone(name: str) -> bool:
    try:
        domain.zone(name)
    except domain.InvalidInput:
        return False
    return True


async def remember_submission(session: AsyncSession, p: SubmissionSubmitted) -> Contact:
    contact = await session.get(Contact, p.submission_id)
    if contact is None:
        await insert_if_absent(session, Contact, submission_id=p.submission_id, city_id=p.city_id,
                               city_name=p.city_name, email=p.contact_email, cycle=p.cycle, stage="submitted")
        contact = await session.get(Contact, p.submission_id)
    assert contact is not None
    return contact


async def set_stage(session: AsyncSession, submission_id: str, stage: str) -> None:
    contact = await session.get(Contact, submission_id)
    if contact is None:
        raise NotYetKnown(f"no submission {submission_id} yet")
    contact.stage = stage


async def remember_holder(session: AsyncSession, p: CaseAssigned | CaseReleased, *, held: bool) -> None:
    holder = await session.get(CaseHolder, p.submission_id)
    auditor = p.auditor_id if held else None
    if holder is None:
        await insert_if_absent(session, CaseHolder, submission_id=p.submission_id, case_id=p.case_id,
                               auditor_id=auditor)
    elif held or holder.auditor_id == p.auditor_id:  # a late release never clears a newer holder
        holder.case_id, holder.auditor_id = p.case_id, auditor


async def remember_round(session: AsyncSession, p: ClarificationRequested) -> None:
    await insert_if_absent(session, ClarificationRound, request_id=p.request_id, submission_id=p.submission_id,
                           requested_by=p.requested_by, criteria=list(p.criteria), due_at=p.due_at)


# --- look-ups ---------------------------------------------------------------------------------


async def submission(session: AsyncSession, submission_id: str) -> Contact:
    contact = await session.get(Contact, submission_id)
    if contact is None:
        raise NotYetKnown(f"submission {submission_id} is not known yet")
    return contact


async def city(session: AsyncSession, city_id: str) -> CityInfo | None:
    return await session.get(CityInfo, city_id)


async def person(session: AsyncSession, user_id: str | None) -> Recipient | None:
    found = await session.get(Person, user_id) if user_id else None
    return _recipient(found, found.timezone or "UTC") if found else None


async def auditor(session: AsyncSession, user_id: str | None) -> Recipient:
    """An auditor named by an event: retried until their account is known."""
    found = await person(session, user_id)
    if found is None:
        raise NotYetKnown(f"user {user_id} is not known yet")
    return found


def _recipient(p: Person, tz: str) -> Recipient:
    return Recipient(email=p.email, language=p.language, name=p.name, user_id=p.user_id, timezone=tz)


async def opted_out(session: AsyncSession, user_ids: list[str]) -> set[tuple[str, str]]:
    if not user_ids:
        return set()
    rows = await session.execute(select(OptOut.user_id, OptOut.kind).where(OptOut.user_id.in_(user_ids)))
    return {(r.user_id, r.kind) for r in rows}


async def city_staff(session: AsyncSession, city_id: str, kind: Kind, *,
                     fallback: str | None = None) -> list[Recipient]:
    """Every staff user of the city, in the city's time zone, less those who opted out of
    `kind`. Before the city's accounts are known, its contact (`fallback`), else retry."""
    info = await session.get(CityInfo, city_id)
    tz = info.timezone if info else "UTC"
    staff = (await session.scalars(select(Person).where(Person.city_id == city_id, Person.role == Role.CITY.value)
                                   .order_by(Person.email))).all()
    if not staff:
        if fallback:
            return [Recipient(email=fallback, language=info.language if info else "en", timezone=tz)]
        raise NotYetKnown(f"no staff known for city {city_id} yet")
    people = [_recipient(p, tz) for p in staff]
    return domain.city_recipients(people, await opted_out(session, [p.user_id for p in staff]), kind)


async def operators(session: AsyncSession) -> list[Recipient]:
    found = (await session.scalars(select(Person).where(Person.role == Role.OPERATOR.value)
                                   .order_by(Person.email))).all()
    return [_recipient(p, p.timezone or "UTC") for p in found]


async def case_auditor(session: AsyncSession, submission_id: str, request_id: str | None = None) -> Recipient:
    """Who is told about a case: its holder; with no holder, the auditor who asked."""
    holder = await session.get(CaseHolder, submission_id)
    user_id = holder.auditor_id if holder else None
    if not user_id and request_id:
        round_ = await session.get(ClarificationRound, request_id)
        user_id = round_.requested_by if round_ else None
    if not user_id:
        raise NotYetKnown(f"no auditor known for submission {submission_id} yet")
    return await auditor(session, user_id)


# --- preferences ------------------------------------------------------------------------------


async def preferences(session: AsyncSession, user_id: str) -> set[str]:
    return {k for (_, k) in await opted_out(session, [user_id])}


async def set_preferences(session: AsyncSession, user_id: str, opted_out_kinds: set[str]) -> set[str]:
    kinds = {k for k in opted_out_kinds if k in {o.value for o in domain.OPTIONAL_KINDS}}
    await session.execute(delete(OptOut).where(OptOut.user_id == user_id))
    for kind in sorted(kinds):
        session.add(OptOut(user_id=user_id, kind=kind))
    await session.flush()
    return kinds

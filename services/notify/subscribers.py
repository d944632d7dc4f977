"""Notify's consumers: some keep what it knows (people, cities, submissions, case holders,
clarification rounds: no mail in them, so an SMTP outage never holds them up); the others
record mail for the people a fact concerns, in the event's own transaction (the sender
delivers it). The cause of each mail is the event id: one mail per (event, recipient)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import directory, domain, mails
from services.notify.config import NotifyOptions
from services.notify.debriefs.service import DebriefConfig
from services.notify.domain import Kind, Recipient
from shared.contracts.events import (
    AppealDueSoon,
    AppealOverdue,
    CaseAssigned,
    CaseReleased,
    CityProfile,
    ClarificationAnswered,
    ClarificationRequested,
    Envelope,
    Subject,
    MessageParked,
    RegistrationRefused,
    RegistrationRequested,
    ReportReady,
    ReviewCompleted,
    ReviewDueSoon,
    ReviewOverdue,
    ScoreComputed,
    SignoffReturned,
    StatusChanged,
    SubmissionSubmitted,
    UserRegistered,
)
from shared.catalog.texts import criterion_text
from shared.infra.logging import get_logger
from shared.infra.orm import utcnow
from shared.infra.settings import service_urls

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def cause(envelope: Envelope) -> str:
    return f"event:{envelope.event_id}"


# Intake's appeal of audited findings (its payload class is intake's; the fields read are
# submission_id, city_id, criteria[].criterion_id and filed_by_name).
APPEAL_FILED = "wwc.intake.appeal.filed"


def portal(path: str = "") -> str:
    return f"{service_urls()['intake']}/portal{path}"


def audit_appeal(appeal_id: str) -> str:
    """The appeal's page in the audit console."""
    return f"{service_urls()['audit']}/audit/appeals/{appeal_id}"


# --- what notify knows --------------------------------------------------------------------


async def remember_person(session: AsyncSession, envelope: Envelope) -> None:
    await directory.remember_person(session, envelope.payload_as(UserRegistered))


async def remember_city(session: AsyncSession, envelope: Envelope) -> None:
    await directory.remember_city(session, envelope.payload_as(CityProfile))


async def remember_contact(session: AsyncSession, envelope: Envelope) -> None:
    await directory.remember_submission(session, envelope.payload_as(SubmissionSubmitted))


async def remember_stage(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(StatusChanged)
    await directory.set_stage(session, p.submission_id, p.status)


async def remember_assignment(session: AsyncSession, envelope: Envelope) -> None:
    await directory.remember_holder(session, envelope.payload_as(CaseAssigned), held=True)


async def remember_release(session: AsyncSession, envelope: Envelope) -> None:
    await directory.remember_holder(session, envelope.payload_as(CaseReleased), held=False)


async def remember_round(session: AsyncSession, envelope: Envelope) -> None:
    await directory.remember_round(session, envelope.payload_as(ClarificationRequested))


# --- mail to an address -------------------------------------------------------------------


# Mail anyone can cause for any address, without signing in: capped per address and hour.
ADDRESS_KINDS = (Kind.REGISTRATION_REQUESTED, Kind.REGISTRATION_REFUSED)


def address_mail(options: NotifyOptions) -> dict[str, Handler]:
    """Registration's mail to an address (the link, or the note that it cannot go on), at
    most `options.address_mail_per_hour` to one address an hour."""

    async def capped(session: AsyncSession, envelope: Envelope, email: str) -> bool:
        sent = await mails.recent_to(session, email, ADDRESS_KINDS, now=utcnow())
        if sent >= options.address_mail_per_hour:
            log.warning("mail.address_capped", kind=envelope.type, per_hour=options.address_mail_per_hour,
                        event_id=envelope.event_id)
            return True
        return False

    async def requested(session: AsyncSession, envelope: Envelope) -> None:
        """The link that confirms a new account's address (it creates the account)."""
        p = envelope.payload_as(RegistrationRequested)
        if await capped(session, envelope, p.email):
            return
        await mails.queue(session, cause=cause(envelope), kind=Kind.REGISTRATION_REQUESTED,
                          recipients=[Recipient(email=p.email, language=p.language, name=p.contact_name)],
                          context={"contact_name": p.contact_name, "city_name": p.city_name,
                                   "confirm_url": p.confirm_url, "expires_at": p.expires_at},
                          secrets=("confirm_url",))

    async def refused(session: AsyncSession, envelope: Envelope) -> None:
        """Only the address's owner learns that it has an account already (or that the city is
        registered); the API said the same to everyone."""
        p = envelope.payload_as(RegistrationRefused)
        if await capped(session, envelope, p.email):
            return
        await mails.queue(session, cause=cause(envelope), kind=Kind.REGISTRATION_REFUSED,
                          recipients=[Recipient(email=p.email, language=p.language)],
                          context={"reason": p.reason, "city_name": p.city_name,
                                   "sign_in_url": portal("/sign-in")})

    return {Subject.REGISTRATION_REQUESTED: requested, Subject.REGISTRATION_REFUSED: refused}


# --- mail to a city's staff ---------------------------------------------------------------


def city_mail(cfg: DebriefConfig) -> dict[str, Handler]:
    prefs = {"preferences_url": f"{cfg.public_url}/booking/preferences"}

    async def to_city(session: AsyncSession, envelope: Envelope, kind: Kind, submission_id: str,
                      context: dict, city_id: str | None = None) -> None:
        contact = await directory.submission(session, submission_id)
        staff = await directory.city_staff(session, city_id or contact.city_id, kind, fallback=contact.email)
        await mails.queue(session, cause=cause(envelope), kind=kind, recipients=staff,
                          city_id=city_id or contact.city_id, submission_id=submission_id,
                          context={"city_name": contact.city_name, "cycle": contact.cycle, **prefs, **context})

    async def submitted(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(SubmissionSubmitted)
        await directory.remember_submission(session, p)  # this consumer may run first
        await to_city(session, envelope, Kind.SUBMISSION_RECEIVED, p.submission_id, {
            "answered": p.answered, "evidence_count": p.evidence_count, "portal_url": portal("/submission")},
            city_id=p.city_id)

    async def clarification_requested(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(ClarificationRequested)
        await to_city(session, envelope, Kind.CLARIFICATION_REQUESTED, p.submission_id, {
            "criteria": p.criteria, "message": p.message, "due_at": p.due_at,
            "link": portal(f"/submission/clarifications/{p.request_id}")})

    async def review_completed(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(ReviewCompleted)
        await to_city(session, envelope, Kind.REVIEW_COMPLETED, p.submission_id, {
            "corrections": p.corrections, "changes": [c.model_dump() for c in p.changes],
            "portal_url": portal("/submission")})

    async def report_ready(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(ReportReady)
        if p.version > 1:
            return  # a reissue after an appeal: the appeal's outcome mail (notify.mail_appeal_outcome) links it
        await to_city(session, envelope, Kind.REPORT_READY, p.submission_id, {
            "report_url": p.url or portal("/submission"), "tier": p.tier}, city_id=p.city_id)

    async def score_computed(session: AsyncSession, envelope: Envelope) -> None:
        p = envelope.payload_as(ScoreComputed)
        if p.version > 1:
            return  # scored again after an appeal: the appeal's outcome mail says the tier now
        await to_city(session, envelope, Kind.CERTIFICATION_RESULT, p.submission_id, {
            "tier": p.tier, "percent": p.percent, "met": p.met, "total": p.total,
            "portal_url": portal("/submission")}, city_id=p.city_id)

    async def appeal_filed(session: AsyncSession, envelope: Envelope) -> None:
        """The city's appeal is received (intake's `wwc.intake.appeal.filed`, read by its
        fields: criteria as objects naming `criterion_id`)."""
        p = envelope.payload
        sid = p.get("submission_id") or envelope.submission_id
        criteria = [str(c.get("criterion_id")) if isinstance(c, dict) else str(c) for c in p.get("criteria") or ()]
        if not sid or not criteria:
            return
        contact = await directory.submission(session, sid)
        staff = await directory.city_staff(session, p.get("city_id") or contact.city_id, Kind.APPEAL_FILED,
                                           fallback=contact.email)
        await mails.queue(session, cause=cause(envelope), kind=Kind.APPEAL_FILED, recipients=staff,
                          city_id=p.get("city_id") or contact.city_id, submission_id=sid,
                          context=lambda person: {
                              "city_name": contact.city_name, "cycle": contact.cycle, **prefs,
                              "criteria": [{"id": c, "text": criterion_text(c, person.language)} for c in criteria],
                              "filed_by_name": p.get("filed_by_name") or "", "portal_url": portal("/submission")})

    return {"submitted": submitted, "clarification_requested": clarification_requested,
            "review_completed": review_completed, "report_ready": report_ready, "score_computed": score_computed,
            "appeal_filed": appeal_filed}


# --- mail to auditors ---------------------------------------------------------------------


async def _case_city(session: AsyncSession, submission_id: str) -> str:
    return (await directory.submission(session, submission_id)).city_name


async def on_case_assigned(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(CaseAssigned)
    holder = await directory.auditor(session, p.auditor_id)
    by = await directory.person(session, p.assigned_by)
    await mails.queue(session, cause=cause(envelope), kind=Kind.CASE_ASSIGNED, recipients=[holder],
                      submission_id=p.submission_id, city_id=envelope.city_id,
                      context={"city_name": await _case_city(session, p.submission_id), "case_id": p.case_id,
                               "due_at": p.due_at, "claimed": p.assigned_by == p.auditor_id,
                               "assigned_by": by.name if by else ""})


async def on_review_due_soon(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ReviewDueSoon)
    holder = await (directory.auditor(session, p.auditor_id) if p.auditor_id
                    else directory.case_auditor(session, p.submission_id))
    await mails.queue(session, cause=cause(envelope), kind=Kind.REVIEW_DUE_SOON, recipients=[holder],
                      submission_id=p.submission_id, city_id=envelope.city_id,
                      context={"city_name": await _case_city(session, p.submission_id), "case_id": p.case_id,
                               "due_at": p.due_at})


async def _appeal_city(session: AsyncSession, p: AppealDueSoon | AppealOverdue) -> str:
    if p.city_name:
        return p.city_name
    return await _case_city(session, p.submission_id)


async def on_appeal_due_soon(session: AsyncSession, envelope: Envelope) -> None:
    """As a review due soon: the auditors deciding the appeal, or operators when nobody is
    (`domain.appeal_reminder_to_operators`); one mail per (event, recipient)."""
    p = envelope.payload_as(AppealDueSoon)
    to_operators = domain.appeal_reminder_to_operators(p.status, p.auditor_ids)
    recipients = (await directory.operators(session) if to_operators
                  else [await directory.auditor(session, a) for a in p.auditor_ids])
    await mails.queue(session, cause=cause(envelope), kind=Kind.APPEAL_DUE_SOON, recipients=recipients,
                      submission_id=p.submission_id, city_id=envelope.city_id,
                      context={"city_name": await _appeal_city(session, p), "appeal_id": p.appeal_id,
                               "due_at": p.due_at, "status": p.status, "to_operators": to_operators,
                               "appeal_url": audit_appeal(p.appeal_id)})


async def on_clarification_answered(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ClarificationAnswered)
    holder = await directory.case_auditor(session, p.submission_id, p.request_id)
    await mails.queue(session, cause=cause(envelope), kind=Kind.CLARIFICATION_ANSWERED, recipients=[holder],
                      submission_id=p.submission_id, city_id=envelope.city_id,
                      context={"city_name": await _case_city(session, p.submission_id),
                               "criteria": sorted(p.answers), "answered_at": p.answered_at,
                               "request_id": p.request_id})


async def on_signoff_returned(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(SignoffReturned)
    reviewer = await directory.auditor(session, p.reviewer_id)
    by = await directory.person(session, p.returned_by)
    await mails.queue(session, cause=cause(envelope), kind=Kind.SIGNOFF_RETURNED, recipients=[reviewer],
                      submission_id=p.submission_id, city_id=envelope.city_id,
                      context={"city_name": await _case_city(session, p.submission_id), "case_id": p.case_id,
                               "comments": p.comments, "returned_by": by.name if by else ""})


# --- mail to operators --------------------------------------------------------------------


async def on_review_overdue(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(ReviewOverdue)
    holder = await directory.person(session, p.auditor_id)
    await mails.queue(session, cause=cause(envelope), kind=Kind.REVIEW_OVERDUE,
                      recipients=await directory.operators(session), submission_id=p.submission_id,
                      city_id=envelope.city_id,
                      context={"city_name": await _case_city(session, p.submission_id), "case_id": p.case_id,
                               "due_at": p.due_at, "auditor_name": holder.name if holder else ""})


async def on_appeal_overdue(session: AsyncSession, envelope: Envelope) -> None:
    p = envelope.payload_as(AppealOverdue)
    names = []
    for auditor_id in p.auditor_ids:
        person = await directory.person(session, auditor_id)
        names.append(person.name if person and person.name else auditor_id)
    await mails.queue(session, cause=cause(envelope), kind=Kind.APPEAL_OVERDUE,
                      recipients=await directory.operators(session), submission_id=p.submission_id,
                      city_id=envelope.city_id,
                      context={"city_name": await _appeal_city(session, p), "appeal_id": p.appeal_id,
                               "due_at": p.due_at, "status": p.status, "auditor_names": ", ".join(names),
                               "appeal_url": audit_appeal(p.appeal_id)})


PARKED_MAILER = "notify-parked-messages"


async def on_message_parked(session: AsyncSession, envelope: Envelope) -> None:
    """A service parked an event. Notify's own parking of this very consumer is not mailed
    (a mail about it could park again, and so on)."""
    p = envelope.payload_as(MessageParked)
    if p.consumer.startswith(PARKED_MAILER):
        return
    await mails.queue(session, cause=cause(envelope), kind=Kind.MESSAGE_PARKED,
                      recipients=await directory.operators(session), submission_id=p.submission_id,
                      context={"service": p.service, "consumer": p.consumer, "event_subject": p.subject,
                               "parked_id": p.parked_id, "error": p.error[:300],
                               "ops_url": f"{service_urls()[p.service]}/ops/parked"
                               if p.service in service_urls() else ""})


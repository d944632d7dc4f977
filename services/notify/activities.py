"""Notify's activities (notify task queue): the debrief offer, its reminders and its
expiry, and the clarification reminder. Each records its mail in its own transaction,
keyed by a cause that a retried activity repeats (so it is recorded once)."""

from __future__ import annotations

from temporalio import activity

from certification.activities import (
    Activities,
    AppealOutcomeMail,
    ClarificationReminder,
    DebriefClosed,
    DebriefOutcome,
    DebriefReminder,
    DebriefRequest,
    bad_data,
)
from services.notify import directory, mails
from services.notify.debriefs import service as debriefs
from services.notify.debriefs.service import DebriefConfig
from services.notify.directory import NotYetKnown
from services.notify.domain import Kind, Recipient
from shared.catalog.texts import criterion_text
from services.notify.sender import MailSender
from shared.infra.runtime import ServiceRuntime
from shared.infra.settings import service_urls


class NotifyActivities:
    def __init__(self, runtime: ServiceRuntime, cfg: DebriefConfig, sender: MailSender) -> None:
        self.runtime, self.cfg, self.sender = runtime, cfg, sender

    def _committed(self) -> None:
        self.runtime.wake_relay()
        self.sender.wake()

    @activity.defn(name=Activities.OFFER_DEBRIEF.name)
    async def offer_debrief(self, req: DebriefRequest) -> DebriefOutcome:
        async with self.runtime.db.transaction() as session:
            offer, emailed = await debriefs.offer(session, self.cfg, req)
            outcome = DebriefOutcome(offer_id=offer.id, emailed=emailed, expires_at=offer.expires_at,
                                     booking_url=self.cfg.booking_url(req.submission_id))
        self._committed()
        return outcome

    @activity.defn(name=Activities.REMIND_DEBRIEF.name)
    async def remind_debrief(self, req: DebriefReminder) -> None:
        async with self.runtime.db.transaction() as session:
            await debriefs.remind(session, self.cfg, req)
        self._committed()

    @activity.defn(name=Activities.CLOSE_DEBRIEF.name)
    async def close_debrief(self, req: DebriefClosed) -> None:
        try:
            async with self.runtime.db.transaction() as session:
                await debriefs.close(session, req)
        except debriefs.NotFound as exc:
            raise bad_data(str(exc)) from exc
        self._committed()

    @activity.defn(name=Activities.REMIND_CLARIFICATION.name)
    async def remind_clarification(self, req: ClarificationReminder) -> None:
        """Two days before a round is due, and the city has not answered: its staff are told."""
        async with self.runtime.db.transaction() as session:
            contact = await directory.submission(session, req.submission_id)  # NotYetKnown: retried
            staff = await directory.city_staff(session, contact.city_id, Kind.CLARIFICATION_DUE_SOON,
                                               fallback=contact.email)
            await mails.queue(
                session, cause=f"clarification-due:{req.request_id}:{req.due_at.isoformat()}",
                kind=Kind.CLARIFICATION_DUE_SOON, recipients=staff, city_id=contact.city_id,
                submission_id=req.submission_id,
                context={"city_name": contact.city_name, "criteria": req.criteria, "due_at": req.due_at,
                         "link": f"{service_urls()['intake']}/portal/submission/clarifications/{req.request_id}",
                         "preferences_url": f"{self.cfg.public_url}/booking/preferences"})
        self._committed()

    @activity.defn(name=Activities.MAIL_APPEAL_OUTCOME.name)
    async def mail_appeal_outcome(self, req: AppealOutcomeMail) -> None:
        """The appeal's outcome to the city's staff, each in their language: the overturned
        and upheld criteria by their catalog statements, the tier now and the reissued
        report. Once per appeal: a retry records nothing more (the cause is the appeal)."""
        async with self.runtime.db.transaction() as session:
            staff = await appeal_recipients(session, req)
            city_name = req.city_name
            if not city_name:
                known = await directory.city(session, req.city_id)
                city_name = known.name if known is not None else ""

            def context(person: Recipient) -> dict:
                def named(ids: list[str]) -> list[dict]:
                    return [{"id": cid, "text": criterion_text(cid, person.language)} for cid in ids]

                return {"city_name": city_name, "overturned": named(req.overturned), "upheld": named(req.upheld),
                        "tier": req.tier, "previous_tier": req.previous_tier, "report_version": req.report_version,
                        "report_url": req.report_url,
                        "preferences_url": f"{self.cfg.public_url}/booking/preferences"}

            await mails.queue(session, cause=f"appeal-decided:{req.appeal_id}", kind=Kind.APPEAL_DECIDED,
                              recipients=staff, city_id=req.city_id, submission_id=req.submission_id,
                              context=context)
        self._committed()

    def all(self) -> list:
        return [self.offer_debrief, self.remind_debrief, self.close_debrief, self.remind_clarification,
                self.mail_appeal_outcome]


async def appeal_recipients(session, req: AppealOutcomeMail) -> list[Recipient]:
    """The city's staff (less those who opted out); before notify knows them, the contact
    the workflow names, in the city's language."""
    fallback = req.contact_email
    try:
        fallback = fallback or (await directory.submission(session, req.submission_id)).email
    except NotYetKnown:
        pass
    try:
        staff = await directory.city_staff(session, req.city_id, Kind.APPEAL_DECIDED)
    except NotYetKnown:
        if not fallback:
            raise
        return [Recipient(email=fallback, language=req.language)]
    return staff


__all__ = ["NotYetKnown", "NotifyActivities"]

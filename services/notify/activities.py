"""Notify's activities (notify task queue)."""

from __future__ import annotations

from temporalio import activity

from shared.contracts.workflows import Activity, DebriefOutcome, DebriefRequest
from shared.infra.runtime import ServiceRuntime
from services.notify import service
from services.notify.mailer import Mailer


class NotifyActivities:
    def __init__(self, runtime: ServiceRuntime, mailer: Mailer) -> None:
        self.runtime, self.mailer = runtime, mailer

    @activity.defn(name=Activity.NOTIFY_OFFER_DEBRIEF)
    async def offer_debrief(self, req: DebriefRequest) -> DebriefOutcome:
        async with self.runtime.db.transaction() as session:
            offer, emailed = await service.offer_debrief(session, self.mailer, req)
            outcome = DebriefOutcome(offer_id=offer.id, emailed=emailed)
        self.runtime.wake_relay()
        return outcome

    def all(self) -> list:
        return [self.offer_debrief]

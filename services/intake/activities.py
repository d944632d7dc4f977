"""Intake's activities: record a submission's status (and publish it), check evidence."""

from __future__ import annotations

from temporalio import activity

from shared.contracts.events import StatusChanged, Subject, make_event
from shared.contracts.workflows import Activity, EvidenceCheck, EvidenceCheckResult, Stage, StatusRecord
from shared.infra.orm import utcnow
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime
from services.intake import submissions
from services.intake.models import Submission

EVIDENCE_BUCKET = "evidence"


class IntakeActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activity.INTAKE_RECORD_STATUS)
    async def record_status(self, record: StatusRecord) -> None:
        async with self.runtime.db.transaction() as session:
            sub = await session.get(Submission, record.submission_id, with_for_update=True)
            if sub is None:
                raise LookupError(f"no submission {record.submission_id}")
            if sub.status == record.status.value:
                return  # a retried activity: the change was already recorded and published
            sub.status = record.status.value
            sub.status_changed_at = utcnow()
            if record.status == Stage.WITHDRAWN:
                await submissions.record_withdrawal(session, sub, record.detail, record.correlation_id)
            await add_event(session, make_event(
                Subject.STATUS_CHANGED,
                StatusChanged(submission_id=sub.id, status=record.status.value,
                              previous=record.previous.value if record.previous else None, detail=record.detail),
                submission_id=sub.id, city_id=sub.city_id, correlation_id=record.correlation_id,
            ))
        self.runtime.wake_relay()

    @activity.defn(name=Activity.INTAKE_CHECK_EVIDENCE)
    async def check_evidence(self, check: EvidenceCheck) -> EvidenceCheckResult:
        """Every file named in the frozen manifest must still be in the object store."""
        store = self.runtime.storage
        assert store is not None
        bucket = store.bucket(EVIDENCE_BUCKET)
        missing = [k for k in check.evidence_keys if not await store.exists(bucket, k)]
        if missing:
            activity.logger.warning("evidence missing: %s", missing)
        return EvidenceCheckResult(checked=len(check.evidence_keys), missing=missing)

    def all(self) -> list:
        return [self.record_status, self.check_evidence]

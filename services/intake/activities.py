"""Intake's activities: record a submission's status (and publish it), check evidence."""

from __future__ import annotations

from temporalio import activity

from certification.activities import (
    Activities,
    EvidenceCheck,
    EvidenceCheckResult,
    StatusRecord,
    StepRecord,
    bad_data,
)
from services.intake import progress, submissions
from services.intake.models import Submission
from shared.contracts.events import StatusChanged, StepFailed, StepRetried, Subject, make_event
from certification.contract import Stage
from shared.infra.orm import utcnow
from shared.infra.outbox import add_event
from shared.infra.runtime import ServiceRuntime

EVIDENCE_BUCKET = "evidence"


class IntakeActivities:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    @activity.defn(name=Activities.RECORD_STATUS.name)
    async def record_status(self, record: StatusRecord) -> None:
        async with self.runtime.db.transaction() as session:
            sub = await session.get(Submission, record.submission_id, with_for_update=True)
            if sub is None:
                raise bad_data(f"no submission {record.submission_id}")
            if sub.status == record.status.value:
                return  # a retried activity: the change was already recorded and published
            at = record.at or utcnow()
            sub.status, sub.status_changed_at, sub.waiting_for = record.status.value, at, record.waiting_for
            progress.add_stage(sub, record.status.value, at, record.detail)
            if record.status == Stage.WITHDRAWN:
                await submissions.record_withdrawal(session, sub, record.detail, record.correlation_id,
                                                    by_name=record.actor_name)
            await add_event(session, make_event(
                Subject.STATUS_CHANGED,
                StatusChanged(submission_id=sub.id, status=record.status.value,
                              previous=record.previous.value if record.previous else None, detail=record.detail,
                              waiting_for=record.waiting_for),
                submission_id=sub.id, city_id=sub.city_id, correlation_id=record.correlation_id,
            ))
        self.runtime.wake_relay()

    @activity.defn(name=Activities.RECORD_STEP.name)
    async def record_step(self, record: StepRecord) -> None:
        """A failed step (or an operator's retry of it) is published for operators. A
        retried local activity may publish twice; the ledger keeps both, each with its id."""
        async with self.runtime.db.transaction() as session:
            sub = await session.get(Submission, record.submission_id)
            city_id = sub.city_id if sub else None
            if record.retried_by is None:
                subject, payload = Subject.STEP_FAILED, StepFailed(
                    submission_id=record.submission_id, stage=record.stage.value, step=record.step,
                    error=record.error[:2000])
            else:
                subject, payload = Subject.STEP_RETRIED, StepRetried(
                    submission_id=record.submission_id, stage=record.stage.value, step=record.step,
                    by=record.retried_by)
            await add_event(session, make_event(subject, payload, submission_id=record.submission_id,
                                                city_id=city_id, correlation_id=record.correlation_id))
        self.runtime.wake_relay()

    @activity.defn(name=Activities.CHECK_EVIDENCE.name)
    async def check_evidence(self, check: EvidenceCheck) -> EvidenceCheckResult:
        """Every file named in the frozen manifest must still be in the object store."""
        store = self.runtime.storage
        assert store is not None
        bucket = store.bucket(EVIDENCE_BUCKET)
        missing = []
        for done, key in enumerate(check.evidence_keys, 1):
            if not await store.exists(bucket, key):
                missing.append(key)
            activity.heartbeat(done)  # a long manifest: show progress, detect a dead worker
        if missing:
            activity.logger.warning("evidence missing: %s", missing)
        return EvidenceCheckResult(checked=len(check.evidence_keys), missing=missing)

    def all(self) -> list:
        return [self.record_status, self.record_step, self.check_evidence]

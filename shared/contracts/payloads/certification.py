"""Facts of the certification workflow itself (recorded and published by intake)."""

from __future__ import annotations

from pydantic import BaseModel

from shared.contracts.vocabulary import ReplayStatus, Stage, WaitingFor


class StatusChanged(BaseModel):
    submission_id: str
    status: Stage
    previous: Stage | None = None
    detail: str = ""
    # Who or what the submission waits for now (auditor, city, ...): for operators.
    waiting_for: WaitingFor = WaitingFor.NOTHING


class StepFailed(BaseModel):
    """A workflow step failed on data that retrying cannot fix: the certification waits
    at its stage for an operator to correct the cause and retry the step."""

    submission_id: str
    stage: Stage
    step: str  # the activity's name, e.g. scoring.score_submission
    error: str


class StepRetried(BaseModel):
    """An operator asked the workflow to run a failed step again."""

    submission_id: str
    stage: Stage
    step: str
    by: str = ""


class MessageParked(BaseModel):
    """A service gave up delivering an event to one of its consumers and parked it for an
    operator (`/ops/parked` on that service lists and replays it)."""

    service: str
    consumer: str
    subject: str
    parked_id: int
    event_id: str | None = None
    submission_id: str | None = None
    error: str = ""


class ReplayRequested(BaseModel):
    """An operator asks a service to run one of its parked messages through its consumer
    again (the service answers with wwc.<service>.message.replayed)."""

    service: str
    parked_id: int
    requested_by: str = ""


class MessageReplayed(BaseModel):
    service: str
    parked_id: int
    status: ReplayStatus
    error: str = ""
    requested_by: str = ""

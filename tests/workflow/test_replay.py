"""Running certifications survive a deployment: the current workflow code replays every
recorded history (tests/workflow/histories/, one per path), and the suite proves that
this guard works — the same change fails replay without `workflow.patched` and passes
with it."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from shared.infra.temporal import DATA_CONVERTER
from temporalio.worker import Replayer

from certification.workflow import CertificationWorkflow
from certification.contract import CERTIFICATION_WORKFLOW, CertificationInput, CertificationStatus, Stage
from tests.workflow.histories import PATHS, load


async def replay(workflow_class: type) -> dict[str, Exception | None]:
    """The path's name -> its replay failure, None when it replayed."""
    replayer = Replayer(workflows=[workflow_class], data_converter=DATA_CONVERTER)
    return {name: (await replayer.replay_workflow(WorkflowHistory.from_json(name, text),
                                                  raise_on_replay_failure=False)).replay_failure
            for name, text in load().items()}


def test_every_path_has_a_recorded_history():
    assert set(load()) == set(PATHS)


async def test_the_current_code_replays_every_recorded_path():
    failures = {name: str(err) for name, err in (await replay(CertificationWorkflow)).items() if err}
    assert failures == {}


# --- a change to the workflow, as a developer might make it ---------------------------------


@workflow.defn(name=CERTIFICATION_WORKFLOW, sandboxed=False)
class PauseBeforeScoring(CertificationWorkflow):
    """Waits a minute before scoring (say, to let late corrections land) — unguarded."""

    @workflow.run
    async def run(self, inp: CertificationInput) -> CertificationStatus:
        return await super().run(inp)

    async def _enter(self, stage: Stage, detail: str = "") -> None:
        if stage == Stage.SCORING:
            await workflow.sleep(timedelta(minutes=1))
        await super()._enter(stage, detail)


@workflow.defn(name=CERTIFICATION_WORKFLOW, sandboxed=False)
class PauseBeforeScoringPatched(CertificationWorkflow):
    """The same change behind `workflow.patched`: runs started before it keep their path."""

    @workflow.run
    async def run(self, inp: CertificationInput) -> CertificationStatus:
        return await super().run(inp)

    async def _enter(self, stage: Stage, detail: str = "") -> None:
        if stage == Stage.SCORING and workflow.patched("pause-before-scoring"):
            await workflow.sleep(timedelta(minutes=1))
        await super()._enter(stage, detail)


async def test_a_change_without_workflow_patched_fails_replay():
    results = await replay(PauseBeforeScoring)
    # Every path that reached scoring breaks; the withdrawn one never got there.
    broken = {name for name, err in results.items() if err is not None}
    assert broken == set(PATHS) - {"withdrawn"}
    assert all(isinstance(results[name], workflow.NondeterminismError) for name in broken), results


async def test_the_same_change_behind_workflow_patched_replays():
    failures = {name: str(err) for name, err in (await replay(PauseBeforeScoringPatched)).items() if err}
    assert failures == {}


# What each recording must show: its final stage, and a step or signal only that path has.
SHOWS = {
    "completed": ("completed", "audit.open_review"),
    "withdrawn": ("withdrawn", "withdraw"),
    "clarification": ("completed", "notify.remind_clarification"),
    "auditor_returned": ("completed", "audit.close_round"),
    "debrief_booked": ("completed", "notify.remind_debrief"),
    "step_failed_and_retried": ("completed", "retry_step"),
    "appealed": ("completed", "audit.open_appeal"),
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_each_history_is_the_path_its_name_says(name):
    """A re-recording that went wrong (a path that stopped early) shows here."""
    events = json.loads(load()[name])["events"]
    done = events[-1]["workflowExecutionCompletedEventAttributes"]["result"]["payloads"][0]["data"]
    stage, marker = SHOWS[name]
    assert json.loads(base64.b64decode(done))["stage"] == stage
    names = {e.get("activityTaskScheduledEventAttributes", {}).get("activityType", {}).get("name") for e in events}
    names |= {e.get("workflowExecutionSignaledEventAttributes", {}).get("signalName") for e in events}
    names |= {e.get("workflowExecutionUpdateAcceptedEventAttributes", {}).get("acceptedRequest", {})
              .get("input", {}).get("name") for e in events}
    names |= {json.loads(base64.b64decode(e["markerRecordedEventAttributes"]["details"]["data"]["payloads"][0]["data"]))
              .get("activity_type") for e in events if "markerRecordedEventAttributes" in e
              and "data" in e["markerRecordedEventAttributes"].get("details", {})}
    assert marker in names, sorted(n for n in names if n)

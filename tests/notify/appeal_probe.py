"""A workflow that asks notify to mail an appeal's outcome with the real activity's name,
queue and options, twice (as a retry after a lost answer would). Its own module, importing
little, so it runs in the workflow sandbox."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from certification.activities import Activities, AppealOutcomeMail


class AppealMailProbeInput(BaseModel):
    mail: AppealOutcomeMail
    queue: str


@workflow.defn(name="AppealMailProbe")
class AppealMailProbe:
    @workflow.run
    async def run(self, inp: AppealMailProbeInput) -> None:
        spec = Activities.MAIL_APPEAL_OUTCOME
        for _ in range(2):
            await workflow.execute_activity(
                spec.name, inp.mail, task_queue=inp.queue, start_to_close_timeout=spec.start_to_close,
                heartbeat_timeout=spec.heartbeat, retry_policy=spec.retry)

"""A workflow that keeps every signal it receives, in order, for the gateway's tests. Its
own module, importing little, so it runs in the workflow sandbox."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import RawValue


@workflow.defn(name="SignalProbe")
class SignalProbe:
    def __init__(self) -> None:
        self.received: list[tuple[str, object]] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[tuple[str, object]]:
        await workflow.wait_condition(lambda: self.done)
        return self.received

    @workflow.signal(dynamic=True)
    def any_signal(self, name: str, args: Sequence[RawValue]) -> None:
        if name == "done":
            self.done = True
            return
        self.received.append((name, workflow.payload_converter().from_payload(args[0].payload) if args else None))

    @workflow.query(name="received")
    def seen(self) -> list[tuple[str, object]]:
        return self.received

"""Temporal client factory (pydantic payloads, compact failures, the process's metered
Runtime, tracing when on), log and trace correlation for activities, and heartbeats sent
from the event loop for every activity that has a heartbeat timeout."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from temporalio import activity
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadConverter
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from shared.infra import tracing
from shared.infra.logging import bound_contextvars
from shared.infra.metrics import temporal_runtime
from shared.infra.settings import TemporalSettings


# A failure's message and stack are cut to these lengths, and its chain of causes to
# this depth: the server truncates a pending activity's last failure past a few KiB to
# "Failure exceeds size limit.", which would hide the real cause from operators.
FAILURE_MESSAGE_CHARS = 1000
FAILURE_STACK_CHARS = 1500
FAILURE_CAUSES = 2


class CompactFailureConverter(DefaultFailureConverter):
    """Failures small enough that the workflow engine keeps their message: the first
    words of the message, the innermost frames of the stack, the first causes."""

    def to_failure(self, exception: BaseException, payload_converter: PayloadConverter, failure: Failure) -> None:
        super().to_failure(exception, payload_converter, failure)
        node, depth = failure, 0
        while True:
            if len(node.message) > FAILURE_MESSAGE_CHARS:
                node.message = node.message[:FAILURE_MESSAGE_CHARS - 1] + "…"
            if len(node.stack_trace) > FAILURE_STACK_CHARS:
                node.stack_trace = "…" + node.stack_trace[-(FAILURE_STACK_CHARS - 1):]
            if not node.HasField("cause"):
                break
            depth += 1
            if depth > FAILURE_CAUSES:
                node.ClearField("cause")
                break
            node = node.cause


DATA_CONVERTER: DataConverter = dataclasses.replace(
    pydantic_data_converter, failure_converter_class=CompactFailureConverter)


async def connect(settings: TemporalSettings, *, interceptors: Sequence[Any] = ()) -> Client:
    """A client on the Runtime whose metrics /metrics shows; `interceptors` (tracing) also
    apply to workers built on the client."""
    return await Client.connect(
        settings.address, namespace=settings.namespace, data_converter=DATA_CONVERTER,
        runtime=temporal_runtime(), interceptors=interceptors,
    )


def task_queue(settings: TemporalSettings, queue: str) -> str:
    return f"{settings.task_queue_prefix}{queue}"


class _CorrelatingActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        arg = input.args[0] if input.args else None
        info = activity.info()
        correlation_id = getattr(arg, "correlation_id", None)
        tracing.annotate(**{tracing.CORRELATION_ID: correlation_id or None})
        with bound_contextvars(
            correlation_id=correlation_id,
            submission_id=getattr(arg, "submission_id", None),
            activity=info.activity_type,
            workflow_id=info.workflow_id,
        ):
            return await self.next.execute_activity(input)


class _HeartbeatingActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = activity.info().heartbeat_timeout
        if not timeout or not asyncio.iscoroutinefunction(input.fn):
            return await self.next.execute_activity(input)
        beats = asyncio.create_task(_beat_every(timeout.total_seconds() / 3))
        try:
            return await self.next.execute_activity(input)
        finally:
            beats.cancel()


async def _beat_every(seconds: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(seconds)


class HeartbeatInterceptor(Interceptor):
    """Every activity with a heartbeat timeout heartbeats from the event loop while it
    runs (its CPU-heavy parts run in worker processes, so the loop stays free). A worker
    that dies is then noticed within the heartbeat timeout, seconds instead of the
    activity's whole start-to-close timeout, and the step is retried elsewhere."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _HeartbeatingActivity(next)


class CorrelationInterceptor(Interceptor):
    """Binds correlation_id and submission_id from the activity input to every log line,
    and the correlation id to the activity's span (when tracing is on)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CorrelatingActivity(next)

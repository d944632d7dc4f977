"""Temporal client factory (pydantic payloads, the process's metered Runtime, tracing
when on) and log and trace correlation for activities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from shared.contracts.workflows import TaskQueue
from shared.infra import tracing
from shared.infra.logging import bound_contextvars
from shared.infra.metrics import temporal_runtime
from shared.infra.settings import TemporalSettings


async def connect(settings: TemporalSettings, *, interceptors: Sequence[Any] = ()) -> Client:
    """A client on the Runtime whose metrics /metrics shows; `interceptors` (tracing) also
    apply to workers built on the client."""
    return await Client.connect(
        settings.address, namespace=settings.namespace, data_converter=pydantic_data_converter,
        runtime=temporal_runtime(), interceptors=interceptors,
    )


def task_queue(settings: TemporalSettings, queue: TaskQueue | str) -> str:
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


class CorrelationInterceptor(Interceptor):
    """Binds correlation_id and submission_id from the activity input to every log line,
    and the correlation id to the activity's span (when tracing is on)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CorrelatingActivity(next)

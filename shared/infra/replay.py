"""Replay of parked messages on an operator's request, from anywhere.

The operator console (reporting) knows every service's parked messages from their
`wwc.<service>.message.parked` events, but not their tables: it asks by publishing
`wwc.reporting.replay.requested`. Every service listens; the one that parked the message
runs it through its consumer again (`replay_parked`: idempotent, in the consumer's own
transaction) and answers with `wwc.<service>.message.replayed`, success or not, so the
console shows the outcome. A redelivered request finds the message already replayed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.contracts.events import Envelope, MessageReplayed, ReplayRequested, Subject, make_event
from shared.contracts.vocabulary import ReplayStatus
from shared.infra.consumer import EventConsumer, register, replay_parked
from shared.infra.logging import get_logger
from shared.infra.outbox import add_event

if TYPE_CHECKING:
    from shared.infra.runtime import ServiceRuntime

log = get_logger(__name__)


class ReplayRequests(EventConsumer):
    """Not a handler in a transaction (the replay runs the parked message's consumer in its
    own); the ack/retry/park machinery is the same as every consumer's."""

    runtime: ServiceRuntime

    async def process(self, envelope: Envelope) -> bool:
        request = envelope.payload_as(ReplayRequested)
        if request.service != self.service:
            return False  # another service's message
        error = ""
        try:
            status = (await replay_parked(self.db, self.runtime.consumers, request.parked_id))["status"]
        except LookupError as exc:
            status, error = ReplayStatus.FAILED, str(exc)
        except Exception as exc:  # the consumer failed again: said to the operator, not retried here
            status, error = ReplayStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        log.info("event.replay_requested", parked_id=request.parked_id, status=status, by=request.requested_by)
        async with self.db.transaction() as session:
            await add_event(session, make_event(
                Subject.message_replayed(self.service),
                MessageReplayed(service=self.service, parked_id=request.parked_id, status=status, error=error,
                                requested_by=request.requested_by),
                correlation_id=envelope.correlation_id))
        for hook in self.after_commit:
            hook()
        return True


def listen(runtime: ServiceRuntime) -> None:
    """Every service answers replay requests for its own parked messages."""
    consumer = ReplayRequests(f"{runtime.name}-replay", Subject.REPLAY_REQUESTED, None, runtime.db,
                              after_commit=[runtime.wake_relay], service=runtime.name, metrics=runtime.metrics,
                              tracer=runtime.tracing.tracer)
    consumer.runtime = runtime
    runtime.consumers[consumer.name] = consumer
    register(runtime.router, consumer, runtime.settings.nats, runtime.stream)


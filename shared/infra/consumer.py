"""Idempotent, bounded-redelivery event consumers.

Each handler runs in the consumer's own transaction together with a `processed_events`
row keyed by (consumer, event_id): a redelivered or concurrent duplicate finds the row and
is acknowledged without effect. Failures are NAKed with backoff; on the last allowed
delivery (`max_deliver`) the message is parked where an operator can list and replay it,
instead of being thrown away (FastStream's default REJECT_ON_ERROR would drop it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, NatsMessage, NatsRouter
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError
from opentelemetry.trace import Tracer
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.events import PAYLOADS, Envelope, MessageParked, Subject, make_event
from shared.contracts.vocabulary import ReplayStatus
from shared.infra.db import Database
from shared.infra import tracing
from shared.infra.logging import bound_contextvars, get_logger
from shared.infra.metrics import ServiceMetrics
from shared.infra.outbox import add_event
from shared.infra.settings import NatsSettings
from shared.infra.tables import parked_messages, processed_events

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never succeed (unparseable): park it at once."""


@dataclass
class EventConsumer:
    """One durable JetStream consumer with its handler; `process` is the whole contract."""

    name: str
    subject: str
    handler: Handler | None  # None: a subclass overrides `process` (shared/infra/replay.py)
    db: Database
    # Called after the handler's transaction commits (e.g. to wake the outbox relay).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # The service that owns the consumer: parking is published as wwc.<service>.message.parked.
    service: str = ""
    # Counted in the service's /metrics, traced when tracing is on (both optional).
    metrics: ServiceMetrics | None = None
    tracer: Tracer | None = None

    async def process(self, envelope: Envelope) -> bool:
        """Run the handler once per event. Returns False for an already-processed event."""
        with bound_contextvars(
            correlation_id=envelope.correlation_id,
            submission_id=envelope.submission_id,
            event_id=str(envelope.event_id),
            consumer=self.name,
        ):
            try:
                async with self.db.transaction() as session:
                    await session.execute(
                        processed_events.insert().values(
                            consumer=self.name, event_id=str(envelope.event_id), subject=envelope.type
                        )
                    )
                    await session.flush()
                    await self.handler(session, envelope)
            except IntegrityError as exc:
                if await self.already_processed(str(envelope.event_id)):
                    log.info("event.duplicate_skipped")
                    self._count("duplicate", envelope.type)
                    return False
                self._count("failed", envelope.type)
                raise exc
            except Exception:
                self._count("failed", envelope.type)
                raise
            for hook in self.after_commit:
                hook()
            log.info("event.processed", subject=envelope.type)
            self._count("processed", envelope.type)
            return True

    def _count(self, outcome: str, subject: str) -> None:
        if self.metrics is not None:
            self.metrics.event_handled(self.name, known_subject(subject), outcome)

    async def already_processed(self, event_id: str) -> bool:
        async with self.db.sessionmaker() as session:
            row = await session.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == self.name, processed_events.c.event_id == event_id
                )
            )
            return row.first() is not None

    async def park(self, msg_subject: str, body: bytes, headers: dict, error: str, deliveries: int) -> int:
        event_id = headers.get("Nats-Msg-Id")
        try:
            envelope: Envelope | None = Envelope.model_validate_json(body)
        except ValidationError:
            envelope = None  # a poison message: kept as it came
        submission_id = envelope.submission_id if envelope else None
        correlation_id = (envelope.correlation_id if envelope else "") or str(headers.get("correlation_id", ""))
        async with self.db.transaction() as session:
            res = await session.execute(
                parked_messages.insert().values(
                    consumer=self.name,
                    subject=msg_subject,
                    event_id=event_id,
                    submission_id=submission_id[:36] if submission_id else None,
                    correlation_id=correlation_id[:64] or None,
                    body=body.decode("utf-8", errors="replace"),
                    headers=headers,
                    error=error[:4000],
                    deliveries=deliveries,
                )
            )
            parked_id = res.inserted_primary_key[0]
            if self.service:  # operators are told (notify mails them), in the same transaction
                await add_event(session, make_event(
                    Subject.message_parked(self.service),
                    MessageParked(service=self.service, consumer=self.name, subject=msg_subject, parked_id=parked_id,
                                  event_id=event_id, submission_id=submission_id[:36] if submission_id else None,
                                  error=error[:500]),
                    submission_id=submission_id, correlation_id=correlation_id[:64]))
        for hook in self.after_commit:
            hook()
        if self.metrics is not None:
            self.metrics.event_parked(self.name, known_subject(msg_subject))
        log.error("event.parked", parked_id=parked_id, subject=msg_subject, error=error[:500])
        return parked_id


def known_subject(subject: str) -> str:
    """A metric label from the subject catalogue; anything else is one value, not one each."""
    return subject if subject in PAYLOADS else "(unknown)"


def parse_envelope(body: bytes) -> Envelope:
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonMessage(f"not a valid event envelope: {exc.errors()[:3]}") from exc


def register(router: NatsRouter, consumer: EventConsumer, settings: NatsSettings, stream: Any) -> None:
    """Subscribe a durable consumer on the stream with manual, bounded acking.

    A push consumer with a queue group (named like the durable): replicas of a service
    share its deliveries. (FastStream 0.7's batch pull loop logs nats-py's builtin
    TimeoutError on every empty fetch, so pull is not used.)"""

    @router.subscriber(
        consumer.subject,
        queue=consumer.name,
        stream=stream,
        config=ConsumerConfig(
            durable_name=consumer.name,
            # JetStream never gives up on its own (it would drop the message silently);
            # this code parks it after settings.max_deliver attempts.
            max_deliver=-1,
            ack_wait=settings.ack_wait_seconds,
        ),
        ack_policy=AckPolicy.MANUAL,
        title=f"{consumer.name}:{consumer.subject}",
    )
    async def _on_message(msg: NatsMessage) -> None:
        raw = msg.raw_message
        deliveries = delivery_count(raw)
        headers = dict(raw.headers or {})
        with tracing.consumer_span(consumer.tracer, consumer=consumer.name, subject=raw.subject,
                                   headers=headers, deliveries=deliveries) as span:
            try:
                envelope = parse_envelope(raw.data)
                if not envelope.correlation_id and headers.get("correlation_id"):
                    envelope = envelope.model_copy(update={"correlation_id": headers["correlation_id"]})
                tracing.annotate(**{tracing.CORRELATION_ID: envelope.correlation_id or None})
                processed = await consumer.process(envelope)
            except Exception as exc:
                last_try = isinstance(exc, PoisonMessage) or deliveries >= settings.max_deliver
                if last_try:
                    try:
                        await consumer.park(raw.subject, raw.data, headers, f"{type(exc).__name__}: {exc}",
                                            deliveries)
                    except Exception as park_exc:  # e.g. the database is down too: keep the message
                        log.error("event.park_failed", error=str(park_exc)[:300])
                        tracing.set_outcome(span, "failed", exc)
                        await msg.nack(delay=settings.nack_backoff_max_seconds)
                        return
                    tracing.set_outcome(span, "parked", exc)
                    await msg.ack()
                else:
                    log.warning("event.failed_will_retry", deliveries=deliveries, error=str(exc))
                    tracing.set_outcome(span, "failed", exc)
                    await msg.nack(delay=backoff(settings, deliveries))
                return
            tracing.set_outcome(span, "processed" if processed else "duplicate")
            await msg.ack()


def delivery_count(raw: Msg) -> int:
    """Which delivery of the message this is (1 for the first). A message that did not
    come through JetStream (FastStream's in-memory test broker) is a first delivery."""
    try:
        return raw.metadata.num_delivered if raw.metadata else 1
    except NotJSMessageError:
        return 1


def backoff(settings: NatsSettings, deliveries: int) -> float:
    """Doubling delay before the next delivery, capped (a dependency may be down a while)."""
    return min(settings.nack_backoff_seconds * 2 ** (deliveries - 1), settings.nack_backoff_max_seconds)


async def list_parked(db: Database, *, include_replayed: bool = False) -> list[dict]:
    async with db.sessionmaker() as session:
        q = select(parked_messages).order_by(parked_messages.c.id)
        if not include_replayed:
            q = q.where(parked_messages.c.replayed_at.is_(None))
        return [dict(r._mapping) for r in (await session.execute(q)).all()]


async def replay_parked(db: Database, consumers: dict[str, EventConsumer], parked_id: int) -> dict:
    """Run a parked message through its consumer again (idempotent); mark it replayed."""
    async with db.sessionmaker() as session:
        row = (await session.execute(select(parked_messages).where(parked_messages.c.id == parked_id))).first()
    if row is None:
        raise LookupError(f"no parked message {parked_id}")
    if row.replayed_at is not None:
        return {"id": parked_id, "status": ReplayStatus.ALREADY_REPLAYED}
    consumer = consumers.get(row.consumer)
    if consumer is None:
        raise LookupError(f"consumer {row.consumer!r} is not registered in this service")
    envelope = parse_envelope(row.body.encode())
    processed = await consumer.process(envelope)
    async with db.transaction() as session:
        await session.execute(
            update(parked_messages).where(parked_messages.c.id == parked_id).values(replayed_at=datetime.now(UTC))
        )
    return {"id": parked_id, "status": ReplayStatus.PROCESSED if processed else ReplayStatus.DUPLICATE}

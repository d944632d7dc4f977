"""FastStream NATS broker factory and the one JetStream stream all facts go to."""

from __future__ import annotations

import logging

import nats
from faststream.nats import JStream, NatsBroker
from nats.js.api import StorageType, StreamConfig

from shared.contracts.events import STREAM_SUBJECTS
from shared.infra.logging import get_logger
from shared.infra.settings import NatsSettings


async def connect_once(settings: NatsSettings) -> nats.NATS:
    """A short-lived connection to whichever of the servers answers (each tried twice)."""
    return await nats.connect(servers=settings.servers, connect_timeout=2, allow_reconnect=False,
                              max_reconnect_attempts=1)


def stream_config(settings: NatsSettings) -> StreamConfig:
    return StreamConfig(
        name=settings.stream,
        subjects=list(STREAM_SUBJECTS),
        storage=StorageType.FILE,
        num_replicas=settings.stream_replicas,
        # Nats-Msg-Id de-duplication must outlast any outbox relay restart.
        duplicate_window=settings.duplicate_window_seconds,
    )


async def declare_stream(settings: NatsSettings) -> None:
    """Create (or bring up to date) the stream before subscribers bind or the relay publishes."""
    nc = await connect_once(settings)
    try:
        js = nc.jetstream()
        cfg = stream_config(settings)
        try:
            await js.add_stream(cfg)
        except nats.js.errors.BadRequestError:
            await js.update_stream(cfg)
    finally:
        await nc.close()


async def reconcile_consumers(settings: NatsSettings, names: list[str], *, service: str = "") -> list[str]:
    """Delete durable consumers whose shape no longer matches ours (a push consumer with a
    deliver group named like it), so the subscriber can recreate them. Safe because every
    consumer is idempotent by event_id: the recreated one may redeliver history, and
    processed_events turns those deliveries into no-ops. Consumers of `service` (named
    `<service>-...`) that the service no longer has are deleted too: a retired consumer
    would otherwise keep its messages forever."""
    removed = []
    nc = await connect_once(settings)
    try:
        js = nc.jetstream()
        if service:
            for info in await js.consumers_info(settings.stream):
                name = info.name
                if name.startswith(f"{service}-") and name not in names:
                    await js.delete_consumer(settings.stream, name)
                    removed.append(name)
        for name in names:
            try:
                info = await js.consumer_info(settings.stream, name)
            except nats.js.errors.NotFoundError:
                continue
            shape = (info.config.deliver_group, bool(info.config.deliver_subject), info.config.max_deliver)
            if shape != (name, True, -1):
                await js.delete_consumer(settings.stream, name)
                removed.append(name)
    finally:
        await nc.close()
    if removed:
        get_logger(__name__).warning("nats.consumers_recreated", consumers=removed)
    return removed


def wwc_stream(settings: NatsSettings) -> JStream:
    # Subscribers only name the stream; declare_stream owns its configuration.
    return JStream(name=settings.stream, subjects=list(STREAM_SUBJECTS), declare=False)


def make_broker(settings: NatsSettings) -> NatsBroker:
    return NatsBroker(
        settings.servers,
        logger=get_logger("faststream"),
        # Per-message "Received/Processed" lines at DEBUG; our consumers log outcomes.
        log_level=logging.DEBUG,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=2,
    )


async def jetstream_publisher(broker: NatsBroker, settings: NatsSettings):
    """A publish function for the outbox relay that waits for JetStream's PubAck."""

    async def publish(subject: str, body: bytes, headers: dict[str, str]) -> bool:
        headers = dict(headers)
        correlation_id = headers.pop("correlation_id", None)
        ack = await broker.publish(
            body, subject, headers={**headers, "content-type": "application/json"},
            correlation_id=correlation_id, stream=settings.stream, timeout=5,
        )
        return bool(getattr(ack, "duplicate", False))

    return publish

"""Tables every service keeps in its own database: outbox, processed events, parked messages,
and the calls it makes to certification workflows.

They live in one MetaData here (one place for the fact) and evolve through one migration
source shared by every service (`shared/infra/infra_migrations`, its own version table):
a change to them is one revision there, applied to each service's database before the
service's own migrations (`shared.infra.migrations.upgrade`).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text, func

infra_metadata = MetaData()

outbox = Table(
    "outbox",
    infra_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("subject", String(200), nullable=False),
    Column("body", JSON, nullable=False),
    Column("correlation_id", String(64), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    # A relay's claim on the row (replicas share the outbox): `shared.infra.claims`.
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
)

processed_events = Table(
    "processed_events",
    infra_metadata,
    # One row per (consumer, event): inserted in the handler's own transaction.
    Column("consumer", String(120), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("subject", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

parked_messages = Table(
    "parked_messages",
    infra_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(120), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("event_id", String(64), nullable=True),
    # From the envelope when it could be read: what operators search parked messages by.
    Column("submission_id", String(36), nullable=True, index=True),
    Column("correlation_id", String(64), nullable=True),
    Column("body", Text, nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("error", Text, nullable=False),
    Column("deliveries", Integer, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("replayed_at", DateTime(timezone=True), nullable=True),
)

workflow_calls = Table(
    "workflow_calls",
    infra_metadata,
    # What this service tells a certification's workflow (start it, signal it): written in
    # the transaction of the change that caused it, delivered after commit in `seq` order
    # by the service's relay (certification/gateway.py), as the outbox does for events.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("workflow_id", String(200), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # start | signal
    Column("name", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True), nullable=True, index=True),
    Column("outcome", String(20), nullable=False, default=""),  # delivered | not_running | already_started
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    # A relay's claim on the row (several replicas share one database); an expired claim
    # (a relay that died) is taken by the next relay: `shared.infra.claims`.
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
)

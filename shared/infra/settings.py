"""Settings, one pydantic-settings class per concern, all read from `WWC_*` variables.

Every port and URL is a setting; the defaults are the local `make run` stack, chosen to
stay clear of servers that may already run on a developer machine (e.g. NATS on 4222).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.events import SERVICES

DEFAULT_HTTP_PORTS = {"intake": 8001, "audit": 8002, "scoring": 8003, "reporting": 8004, "notify": 8005}


class _Base(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)


class CommonSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="WWC_", extra="ignore")
    var_dir: Path = Path("var")
    public_host: str = "127.0.0.1"
    # "test" (the test suite and in-process benchmarks only) is the one environment where
    # services start with the development secret published in the repository; "production"
    # also closes /metrics without a token.
    env: Literal["dev", "production", "test"] = "dev"
    # Addresses (or CIDRs, comma-separated) of TLS-terminating proxies whose
    # X-Forwarded-For/-Proto are believed: behind them the client address is the real one
    # (rate limits) and cookies are Secure. Empty: believe no one (direct connections).
    trusted_proxies: str = ""
    # Where consoles of other services ask for tokens (intake's API); default: intake's URL.
    identity_url: str = ""
    # Bring the service's database to head at start-up (`make run`, compose). Off where a
    # separate step runs `wwc db upgrade SERVICE` first (Kubernetes Jobs): replicas starting
    # together would otherwise race to apply the same migration. Off, a service waits at
    # start-up until its database has every migration it knows.
    migrate_on_start: bool = True
    # Where every throttle of every service keeps its counters (sign-in, registration,
    # verification look-ups), in `limits` storage notation. In memory, each process counts
    # alone: right for `make run` and compose (one process per service). With replicas, a
    # store they share, e.g. async+redis://redis:6379, or a limit counts once per replica.
    throttle_storage: str = "async+memory://"


class NatsSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="WWC_NATS_", extra="ignore")
    # One server, or every server of a cluster comma-separated
    # (nats://n1:4222,nats://n2:4222,nats://n3:4222): a client connects to any of them and
    # moves to another when its server goes (it also learns the others from the cluster).
    url: str = "nats://127.0.0.1:4322"
    stream: str = "WWC"
    # Copies of the stream JetStream keeps (1 on a single server; 3 on a three-node cluster).
    # Applied on every start, so this is where the replica count lives.
    stream_replicas: int = Field(default=1, ge=1, le=5)
    # Deliveries before a message is parked for an operator (see shared.infra.consumer):
    # with the backoff below, about ten minutes of a dependency being down.
    max_deliver: int = 15
    ack_wait_seconds: float = 30.0
    duplicate_window_seconds: float = 3600.0
    # Redelivery backoff after a failed delivery: doubles per attempt.
    nack_backoff_seconds: float = 0.5
    nack_backoff_max_seconds: float = 60.0
    # Published outbox rows are deleted after this long (JetStream holds the events;
    # it must exceed the duplicate window so a re-published row is still de-duplicated).
    outbox_retention_hours: float = 7 * 24

    @property
    def servers(self) -> list[str]:
        return [u.strip() for u in self.url.split(",") if u.strip()]


class TemporalSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="WWC_TEMPORAL_", extra="ignore")
    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    ui_url: str = "http://127.0.0.1:8233"
    # Prefix for every task queue: lets parallel test runs share one server.
    task_queue_prefix: str = ""
    # Workflow runs a worker keeps in memory between tasks (temporalio's default is 1,000).
    # A completed certification stays open for its appeal window with nothing to do: past
    # this many, the least recently used are evicted and replayed from history when their
    # next task comes (a signal, a timer), so a worker's memory stays flat.
    max_cached_workflows: int = Field(default=200, ge=0)


class S3Settings(_Base):
    model_config = SettingsConfigDict(env_prefix="WWC_S3_", extra="ignore")
    endpoint: str = "127.0.0.1:8333"
    access_key: str = "wwc-dev"
    secret_key: str = "wwc-dev-secret"
    # The minio SDK otherwise asks the server for the region on first use.
    region: str = "us-east-1"
    secure: bool = False
    bucket_prefix: str = "wwc"


# Published in the repository: services refuse it outside the test suite (`make run`
# generates var/auth-secret per install, see devtools/devsecret.py).
DEV_AUTH_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class AuthSettings(_Base):
    model_config = SettingsConfigDict(env_prefix="WWC_AUTH_", extra="ignore")
    secret: str = Field(default=DEV_AUTH_SECRET, min_length=32)

    @property
    def is_development_secret(self) -> bool:
        return self.secret == DEV_AUTH_SECRET or "change-me" in self.secret
    issuer: str = "wwc-intake"
    token_ttl_minutes: int = 8 * 60


class SmtpSettings(_Base):
    """Where notify hands its mail: the local sink by default, any relay by settings."""

    model_config = SettingsConfigDict(env_prefix="WWC_SMTP_", extra="ignore")
    host: str = "127.0.0.1"
    port: int = 8025
    sender: str = "certification@whatworkscities.local"
    # "none" (plain, the local sink), "starttls" (upgrade after connecting, usually port
    # 587) or "tls" (TLS from the first byte, usually port 465).
    security: Literal["none", "starttls", "tls"] = "none"
    # Log in when a user is given (only over STARTTLS or TLS in production).
    username: str = ""
    password: SecretStr = SecretStr("")
    # A CA bundle that signs the relay's certificate (a private relay); default: the system's.
    ca_file: str = ""
    timeout_seconds: float = 20.0


class TelemetrySettings(_Base):
    """Metrics access and traces. Tracing is off unless an OTLP endpoint is set: then no
    tracer provider, exporter or span exists at all (see shared.infra.tracing)."""

    model_config = SettingsConfigDict(env_prefix="WWC_", extra="ignore")
    # Base URL of an OTLP/HTTP collector, e.g. http://otel-collector:4318 (spans go to
    # <url>/v1/traces). The standard OTEL_EXPORTER_OTLP_ENDPOINT is read too.
    otel_endpoint: str = Field(default="", validation_alias=AliasChoices(
        "WWC_OTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"))
    # Share of new traces kept (a request that arrives with a sampled traceparent is kept).
    otel_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    # Bearer token a Prometheus scraper sends to GET /metrics. Set: required in every
    # environment. Unset: /metrics is open with WWC_ENV=dev and closed in production.
    metrics_token: SecretStr = SecretStr("")


class ServiceSettings(_Base):
    """Per-service settings: `WWC_<SERVICE>_HTTP_PORT`, `WWC_<SERVICE>_DB_URL`, ...

    Build with `for_service(name)`, which reads that service's prefix."""

    model_config = SettingsConfigDict(env_prefix="WWC_SERVICE_", extra="ignore")
    name: str
    http_host: str = "127.0.0.1"
    http_port: int = 0
    # Default: a SQLite file under var/. PostgreSQL: postgresql+asyncpg://...
    db_url: str = ""
    # PostgreSQL schema that holds this service's tables (one database, one schema each).
    db_schema: str | None = None
    public_url: str = ""
    # /readyz says a dependency is down only once its probes have failed for this long,
    # so one slow answer on a busy machine does not flap readiness; a real outage does.
    readiness_grace_seconds: float = 20.0
    readiness_probe_timeout_seconds: float = 5.0
    # Database connections: at most pool_size + max_overflow at once; a caller waits up to
    # pool_timeout_seconds for one, then gets a clear "busy" error (HTTP 503 with
    # Retry-After) instead of a stall. Size the pool above the activity and request
    # concurrency so that the wait never happens in normal running.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # Activities this service's Temporal worker runs at once (0: the service's default,
    # e.g. reporting's number of render processes). More waits in Temporal's task queue,
    # never inside a started attempt whose clock is running.
    max_concurrent_activities: int = Field(default=0, ge=0)

    @classmethod
    def for_service(cls, name: str) -> "ServiceSettings":
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; expected one of {SERVICES}")
        s = cls(name=name, _env_prefix=f"WWC_{name.upper()}_")  # type: ignore[call-arg]
        common = CommonSettings()
        updates: dict = {}
        if not s.http_port:
            updates["http_port"] = DEFAULT_HTTP_PORTS[name]
        if not s.db_url:
            updates["db_url"] = f"sqlite+aiosqlite:///{common.var_dir / (name + '.db')}"
        s = s.model_copy(update=updates)
        if not s.public_url:
            s = s.model_copy(update={"public_url": f"http://{common.public_host}:{s.http_port}"})
        return s


@lru_cache
def service_urls() -> dict[str, str]:
    """Where each service's HTTP API answers (used for links between consoles)."""
    return {name: ServiceSettings.for_service(name).public_url for name in SERVICES}

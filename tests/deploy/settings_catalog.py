"""Every setting the services read, where it comes from, and which ones a deployment must
provide: one list for docker-compose.yml and the Kubernetes manifests alike.

The settings classes, and which service reads which of them, are taken from the code:
the shared classes every process builds (`shared.infra.runtime.Settings`), each
service's `ServiceSettings` (and the other services' public URLs, for links), its own
options class in `services/<name>/config.py`, S3 when its `main.py` builds the runtime
with `uses_storage=True`, SMTP when its code uses `SmtpSettings`.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings

from shared.infra.settings import (
    SERVICES,
    AuthSettings,
    CommonSettings,
    NatsSettings,
    S3Settings,
    ServiceSettings,
    SmtpSettings,
    TelemetrySettings,
    TemporalSettings,
)

ROOT = Path(__file__).resolve().parents[2]

# Read by every process, each under its own `env_prefix`.
SHARED_SETTINGS: tuple[type[BaseSettings], ...] = (
    CommonSettings,
    TelemetrySettings,
    NatsSettings,
    TemporalSettings,
    S3Settings,
    AuthSettings,
    SmtpSettings,
)


def _source(service: str) -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "services" / service).rglob("*.py")))


@cache
def options_class(service: str) -> type[BaseSettings] | None:
    """The service's own options (`services/<name>/config.py`), if it has any."""
    if not (ROOT / "services" / service / "config.py").exists():
        return None
    module = importlib.import_module(f"services.{service}.config")
    found = [c for _, c in inspect.getmembers(module, inspect.isclass)
             if issubclass(c, BaseSettings) and c.__module__ == module.__name__]
    assert len(found) == 1, f"services/{service}/config.py: expected one settings class, found {found}"
    return found[0]


OPTIONS: dict[str, type[BaseSettings]] = {s: c for s in SERVICES if (c := options_class(s)) is not None}
GLOBAL_SETTINGS: tuple[type[BaseSettings], ...] = SHARED_SETTINGS + tuple(OPTIONS.values())


@cache
def uses_storage(service: str) -> bool:
    return "uses_storage=True" in (ROOT / "services" / service / "main.py").read_text()


@cache
def uses_smtp(service: str) -> bool:
    return "SmtpSettings" in _source(service)


@cache
def signs_in_through_intake(service: str) -> bool:
    """Consoles whose people sign in through intake's token API (shared.web.signin), and
    audit's evidence links, which the same client fetches from intake."""
    return service != "intake" and any(s in _source(service) for s in ("sign_in_router", "state.identity"))


@cache
def throttles(service: str) -> bool:
    """Services with throttles (their counters live where WWC_THROTTLE_STORAGE says)."""
    return "platform_throttle" in _source(service)


def classes_read_by(service: str) -> list[type[BaseSettings]]:
    """The settings classes whose values matter to one service."""
    out: list[type[BaseSettings]] = [CommonSettings, TelemetrySettings, NatsSettings, TemporalSettings, AuthSettings]
    if uses_storage(service):
        out.append(S3Settings)
    if uses_smtp(service):
        out.append(SmtpSettings)
    if service in OPTIONS:
        out.append(OPTIONS[service])
    return out


# --- variable names ---------------------------------------------------------------------

def env_name(cls: type[BaseSettings], prefix: str, field: str) -> str:
    info = cls.model_fields[field]
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return (alias or prefix + field).upper()


def setting_names() -> dict[str, list[tuple[type[BaseSettings], str, str | None]]]:
    """Every variable the code reads -> (settings class, field, service or None)."""
    names: dict[str, list] = {}
    for cls in GLOBAL_SETTINGS:
        prefix = cls.model_config["env_prefix"]
        for field in cls.model_fields:
            names.setdefault(env_name(cls, prefix, field), []).append((cls, field, None))
    for service in SERVICES:
        prefix = f"WWC_{service.upper()}_"
        for field in ServiceSettings.model_fields:
            if field != "name":
                names.setdefault((prefix + field).upper(), []).append((ServiceSettings, field, service))
    return names


SETTINGS = setting_names()


# --- what a deployment must provide -------------------------------------------------------
#
# The rule: a deployment sets every setting explicitly, except the tunables below. A
# tunable has a default that is right in production (a limit, a timeout, a retry policy, a
# programme rule, a name every stack shares) or is only for tests; everything else depends
# on the site (addresses, ports, hosts, URLs, credentials, the database and its schema, the
# programme's cycle and catalog) or is unsafe left at its default (WWC_ENV=dev, migrations
# at start-up with several replicas, a single stream replica on a cluster), and must be
# written down in docker-compose.yml and in the Kubernetes manifests. A new field is
# required until it is listed here with the reason its default is right everywhere.
_RETRY, _LIMIT, _RULE = "retry policy", "limit", "programme rule"
TUNABLES: dict[type[BaseSettings], dict[str, str]] = {
    CommonSettings: {"public_host": "only the fallback for each WWC_<SERVICE>_PUBLIC_URL, which are required"},
    TelemetrySettings: {"otel_endpoint": "tracing is optional; unset, nothing is traced",
                        "otel_sample_ratio": "keep every trace unless told otherwise"},
    NatsSettings: {"stream": "the one stream name every service shares", "max_deliver": _RETRY,
                   "ack_wait_seconds": _RETRY, "nack_backoff_seconds": _RETRY, "nack_backoff_max_seconds": _RETRY,
                   "duplicate_window_seconds": "de-duplication window (DESIGN.md: at least an hour)",
                   "outbox_retention_hours": "housekeeping"},
    TemporalSettings: {"task_queue_prefix": "for test runs sharing one server", "max_cached_workflows": _LIMIT},
    S3Settings: {"bucket_prefix": "bucket names every service agrees on"},
    AuthSettings: {"issuer": "the issuer every service agrees on", "token_ttl_minutes": "session length"},
    SmtpSettings: {"ca_file": "the system's CA bundle unless the relay has a private CA", "timeout_seconds": _LIMIT},
    ServiceSettings: {"readiness_grace_seconds": "probe tuning", "readiness_probe_timeout_seconds": "probe tuning",
                      "db_pool_size": _LIMIT, "db_max_overflow": _LIMIT, "db_pool_timeout_seconds": _LIMIT,
                      "max_concurrent_activities": "the service's own default fits its work (reporting: its "
                                                   "render processes)"},
    OPTIONS["intake"]: {"review_mode": "auditor review is the programme's mode", "appeal_window_days": _RULE, "max_file_mb": _LIMIT,
                        "max_submission_mb": _LIMIT, "download_link_minutes": _LIMIT,
                        "registration_link_hours": _LIMIT, "sign_in_free_failures": _LIMIT,
                        "sign_in_delay_seconds": _LIMIT, "sign_in_delay_max_seconds": _LIMIT,
                        "sign_in_limits_per_client": _LIMIT, "registration_limits_per_address": _LIMIT,
                        "registration_limits_per_client": _LIMIT},
    OPTIONS["audit"]: {"review_sla_days": _RULE, "appeal_sla_days": _RULE, "remind_before_days": _RULE, "max_clarification_rounds": _RULE,
                       "round_days": _RULE, "min_round_days": _RULE, "max_round_days": _RULE,
                       "preview_max_mb": _LIMIT, "double_review_share": _RULE, "agreement_threshold": _RULE,
                       "double_review_seed": "a programme rule; any fixed value makes the sample reproducible",
                       "bootstrap_resamples": _LIMIT, "bootstrap_seed": "a fixed seed makes intervals reproducible",
                       "trail_key_file": "an alternative to WWC_AUDIT_TRAIL_KEYS (a mounted secret file), which "
                                         "is required"},
    OPTIONS["notify"]: {"offer_window_days": _RULE, "min_notice_minutes": _RULE, "max_attempts": _RETRY,
                        "retry_backoff_seconds": _RETRY, "retry_backoff_max_seconds": _RETRY,
                        "claim_seconds": _RETRY, "batch_size": _LIMIT, "poll_seconds": _LIMIT,
                        "address_mail_per_hour": _LIMIT},
    OPTIONS["reporting"]: {"verify_limits_per_client": _LIMIT,
                           "render_processes": "one per core the container is given"},
}


def is_tunable(cls: type[BaseSettings], field: str) -> bool:
    return field in TUNABLES.get(cls, {})


def required_variables(service: str) -> dict[str, str]:
    """Variable -> `Class.field` for every setting `service` reads that a deployment must set."""
    out: dict[str, str] = {}
    for cls in classes_read_by(service):
        prefix = cls.model_config["env_prefix"]
        for field in cls.model_fields:
            if not is_tunable(cls, field):
                out[env_name(cls, prefix, field)] = f"{cls.__name__}.{field}"
    own = f"WWC_{service.upper()}_"
    for field in ServiceSettings.model_fields:
        if field != "name" and not is_tunable(ServiceSettings, field):
            out[(own + field).upper()] = f"ServiceSettings.{field} ({service})"
    for other in SERVICES:  # links between consoles
        out[f"WWC_{other.upper()}_PUBLIC_URL"] = f"ServiceSettings.public_url ({other})"
    return out


def image_environment() -> dict[str, str]:
    """`ENV` of deploy/Dockerfile: every container of the image has these."""
    import shlex

    env: dict[str, str] = {}
    pending = ""
    for line in (ROOT / "deploy" / "Dockerfile").read_text().splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full, pending = (pending + line).strip(), ""
        if full.upper().startswith("ENV "):
            env.update(p.split("=", 1) for p in shlex.split(full[4:]) if "=" in p)
    return env

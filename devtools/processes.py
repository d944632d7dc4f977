"""The whole platform as separate processes, as it runs in production: NATS, Temporal, S3
and the SMTP sink from devstack, then each service as `python -m services.<name>` with
its own settings, all on free ports under one directory. For benchmarks that need the
real shape (one interpreter per service, memory per service) and for fault drills.

    stack = ProcessStack.start(tmp)          # every service ready at /readyz
    async with stack.client("intake") as c: ...
    stack.stop()
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devtools import devstack
from shared.infra.settings import SERVICES

CONFIRM_LINK = re.compile(r"https?://\S+/portal/register/confirm\?token=[\w-]+")


@dataclass
class ProcessStack:
    root: Path
    env: dict[str, str]
    ports: dict[str, int]
    infra: dict[str, devstack.Service] = field(default_factory=dict)
    services: dict[str, devstack.Service] = field(default_factory=dict)
    _links: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    _seen_mail: set[str] = field(default_factory=set)

    @classmethod
    def start(cls, root: Path, *, extra_env: dict[str, str] | None = None,
              services: tuple[str, ...] = SERVICES) -> ProcessStack:
        root.mkdir(parents=True, exist_ok=True)
        s3_key, s3_secret = "wwc-procs", secrets.token_hex(16)
        infra = {
            "nats": devstack.start_nats(devstack.free_port(), root / "nats"),
            "temporal": devstack.start_temporal(devstack.free_port()),
            "s3": devstack.start_s3(devstack.free_port(), root / "s3", access_key=s3_key, secret_key=s3_secret),
            "smtp": devstack.start_smtp(devstack.free_port(), root / "mail"),
        }
        ports = {name: devstack.free_port() for name in SERVICES}
        env = {
            "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "WWC_VAR_DIR": str(root / "var"), "WWC_PUBLIC_HOST": devstack.HOST,
            "WWC_AUTH_SECRET": secrets.token_hex(32),
            # Cohorts register from this one client: registration's per-client windows open.
            "WWC_INTAKE_REGISTRATION_LIMITS_PER_CLIENT": "100000/minute",
            "WWC_NATS_URL": infra["nats"].url, "WWC_TEMPORAL_ADDRESS": infra["temporal"].address,
            "WWC_S3_ENDPOINT": infra["s3"].endpoint, "WWC_S3_ACCESS_KEY": s3_key, "WWC_S3_SECRET_KEY": s3_secret,
            "WWC_SMTP_HOST": devstack.HOST, "WWC_SMTP_PORT": str(infra["smtp"].port),
            **{f"WWC_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()},
            **(extra_env or {}),
        }
        stack = cls(root=root, env=env, ports=ports, infra=infra)
        try:
            for name in services:
                stack.start_service(name)
        except BaseException:
            stack.stop()
            raise
        return stack

    def start_service(self, name: str) -> devstack.Service:
        self.services[name] = devstack.start_service(name, self.ports[name], self.env,
                                                      self.root / "logs" / f"{name}.log")
        return self.services[name]

    def url(self, service: str) -> str:
        return f"http://{devstack.HOST}:{self.ports[service]}"

    def client(self, service: str, token: str | None = None) -> Borrowed:
        """A client for one service as one person (bearer token), over connections kept
        open between calls: a thousand scripted people cost the machine what their
        requests cost, not a TCP handshake each."""
        if service not in self._clients:
            self._clients[service] = httpx.AsyncClient(
                base_url=self.url(service), timeout=120,
                # Idle connections are dropped before the server (uvicorn: 5 s) would close
                # them under a request in flight.
                limits=httpx.Limits(max_keepalive_connections=64, keepalive_expiry=2))
        return Borrowed(self._clients[service], {"authorization": f"Bearer {token}"} if token else {})

    async def registration_link(self, email_address: str, timeout: float = 60) -> str:
        """The confirmation link mailed to an address, read from the SMTP sink (new files
        only: the mailbox of a thousand cities is not read again for each)."""
        from devtools.actors import eventually

        async def found() -> str | None:
            self._read_new_mail()
            return self._links.get(email_address.lower())

        return await eventually(found, timeout=timeout, interval=0.2, what=f"a mail to {email_address}")

    def _read_new_mail(self) -> None:
        mail_dir = self.infra["smtp"].data_dir
        assert mail_dir is not None
        for path in sorted(mail_dir.glob("*.eml")):
            if path.name in self._seen_mail:
                continue
            self._seen_mail.add(path.name)
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            body = msg.get_body(("plain",))
            link = CONFIRM_LINK.search(body.get_content() if body else "")
            if link:
                self._links[str(msg["To"]).lower()] = link.group(0)

    def create_staff(self, email_address: str, name: str, role: str, password: str) -> None:
        """A staff account, as an operator creates one (`wwc user create`)."""
        subprocess.run([sys.executable, "-m", "services.cli", "user", "create", "--role", role,
                        "--email", email_address, "--name", name],
                       env={**self.env, "WWC_NEW_USER_PASSWORD": password}, check=True, capture_output=True)

    def rss(self) -> dict[str, int]:
        """Resident memory of each service's process (its render workers included)."""
        return {name: svc.rss_bytes() for name, svc in self.services.items()}

    def database_sizes(self) -> dict[str, int]:
        """Bytes on disk of each service's SQLite database (with its write-ahead log)."""
        var = Path(self.env["WWC_VAR_DIR"])
        return {name: sum(p.stat().st_size for p in var.glob(f"{name}.db*")) for name in self.services}

    def stop(self) -> None:
        for svc in [*self.services.values(), *self.infra.values()]:
            svc.stop()


class Borrowed:
    """A long-lived client seen through one person's headers; leaving `async with` keeps
    its connections for the next caller."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self._client, self._headers = client, headers

    async def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {**self._headers, **kwargs.pop("headers", {})}
        return await self._client.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def __aenter__(self) -> Borrowed:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

"""Notify hands mail to any relay by settings: STARTTLS or TLS from the first byte, with a
login; the relay's certificate is checked against the configured CA."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from devtools import devstack
from services.notify.mailer import Mailer
from shared.infra.settings import SmtpSettings


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content)
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"notify" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem")], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    return ctx, str(d / "cert.pem")


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_mail_goes_through_an_authenticated_tls_relay(certificate, security):
    ctx, ca_file = certificate
    inbox, port = Inbox(), devstack.free_port()
    # (aiosmtpd does not count TLS from the first byte as TLS for AUTH: that check is for STARTTLS.)
    extra = ({"tls_context": ctx, "require_starttls": True, "auth_require_tls": True} if security == "starttls"
             else {"ssl_context": ctx, "auth_require_tls": False})
    relay = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticate, auth_required=True,
                       **extra)
    relay.start()
    try:
        settings = SmtpSettings(port=port, security=security, username="notify", password="s3cret", ca_file=ca_file,
                                timeout_seconds=5)
        await Mailer(settings).send("dana@riverton.gov", "Olá", "body", message_id="<x@wwc.notify>")
        assert len(inbox.messages) == 1 and b"Message-ID: <x@wwc.notify>" in inbox.messages[0]
        with pytest.raises(ssl.SSLError):  # a certificate nobody vouches for is refused
            await Mailer(settings.model_copy(update={"ca_file": ""})).send("dana@riverton.gov", "x", "y")
        assert len(inbox.messages) == 1 and b"AUTH" not in inbox.messages[0]
    finally:
        relay.stop()

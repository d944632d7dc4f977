"""A local SMTP sink: accepts every message and stores it as an `.eml` file.

    python devtools/smtp_sink.py --port 8025 --dir var/mail

Each message becomes `<dir>/<UTC time>-<random>.eml`, written to a temporary name and
renamed, so a reader never sees half a file. The envelope is recorded in two headers
prepended to the message: `X-Envelope-From` and `X-Envelope-To`. Nothing is relayed.

Standalone on purpose (imports nothing from this repository): `devtools.devstack` runs it
by file path, whatever the current directory is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class MaildirHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(content, str):  # only when decode_data=True; kept for safety
            content = content.encode("utf-8", "surrogateescape")
        headers = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode("utf-8", "surrogateescape")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{secrets.token_hex(4)}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(headers + content)
        os.replace(tmp, self.directory / name)
        print(
            f"stored {name}: from {envelope.mail_from} to {', '.join(envelope.rcpt_tos)}",
            flush=True,
        )
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, directory: Path) -> None:
    loop = asyncio.get_running_loop()
    handler = MaildirHandler(directory)
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="wwc-smtp-sink",  # never socket.getfqdn(): it may wait on DNS
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            loop=loop,
        ),
        host=host,
        port=port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"SMTP sink listening on {host}:{port}, storing mail in {directory}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        print("SMTP sink stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Composing and sending mail over SMTP (stdlib `email` and `smtplib`, run off the event loop).

Headers are built with the email library's own API (`EmailMessage`, `Address`), and every
value placed in one is first made a single line: no stored value (a city named with a line
break or a NUL, say) can add a header or make a message impossible to send.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage

from shared.contracts.text import strip_controls
from shared.infra.settings import SmtpSettings


def compose(sender: str, to: str, subject: str, body: str, *,
            attachments: list[tuple[str, str, bytes]] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = Address(addr_spec=strip_controls(to))
    msg["Subject"] = strip_controls(subject)
    msg.set_content(body.replace("\x00", ""))
    for filename, mime, data in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=strip_controls(filename))
    return msg


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, to: str, subject: str, body: str, *, attachments: list[tuple[str, str, bytes]] = ()) -> None:
        msg = compose(self.settings.sender, to, subject, body, attachments=attachments)

        def _send() -> None:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=10) as smtp:
                smtp.send_message(msg)

        await asyncio.to_thread(_send)

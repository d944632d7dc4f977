"""Sending mail over SMTP (stdlib smtplib, run off the event loop)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from shared.infra.settings import SmtpSettings


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, to: str, subject: str, body: str, *, attachments: list[tuple[str, str, bytes]] = ()) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.settings.sender, to, subject
        msg.set_content(body)
        for filename, mime, data in attachments:
            maintype, subtype = mime.split("/", 1)
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)

        def _send() -> None:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=10) as smtp:
                smtp.send_message(msg)

        await asyncio.to_thread(_send)

"""Composing mail and handing it to the SMTP relay (stdlib `email` and `smtplib`, run off
the event loop): plain, STARTTLS or TLS, with a login when a user is set.

Headers are built with the email library's own API (`EmailMessage`, `Address`), and every
value placed in one is first made a single line: no stored value (a city named with a line
break or a NUL, say) can add a header or make a message impossible to send.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from services.notify.domain import invite_method
from shared.contracts.text import strip_controls
from shared.infra.settings import SmtpSettings


def compose(sender: str, to: str, subject: str, body: str, *, html: str | None = None,
            message_id: str | None = None, ics: str | None = None, ics_method: str = "REQUEST",
            kind: str | None = None, attachments: list[tuple[str, str, bytes]] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = Address(addr_spec=strip_controls(to))
    msg["Subject"] = strip_controls(subject)
    msg["Date"] = formatdate(localtime=False)
    if message_id:
        msg["Message-ID"] = strip_controls(message_id)
    if kind:  # which kind of mail this is (mail filters, support, tests)
        msg["X-WWC-Kind"] = strip_controls(kind)
    msg.set_content(body.replace("\x00", ""))
    if html:
        msg.add_alternative(html.replace("\x00", ""), subtype="html")
    if ics:
        # An invite calendars act on: text/calendar with its METHOD, named invite.ics.
        msg.add_attachment(ics.encode(), maintype="text", subtype="calendar", filename="invite.ics",
                           params={"method": ics_method, "charset": "utf-8"})
    for filename, mime, data in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=strip_controls(filename))
    return msg


def ics_method(ics: str | None) -> str:
    """The invite's METHOD as iCalendar data (`services.notify.domain.invite_method`)."""
    return invite_method(ics)


class SmtpConnection:
    """One session with the relay, reused for a batch of messages (blocking: run in a thread)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def open(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=self._context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, msg: EmailMessage) -> None:
        if self.smtp is None:
            self.smtp = self.open()
        try:
            self.smtp.send_message(msg)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:
                self.smtp.close()
            self.smtp = None


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, to: str, subject: str, body: str, **kwargs) -> None:
        """One message on its own connection (the sender batches with `SmtpConnection`)."""
        msg = compose(self.settings.sender, to, subject, body, **kwargs)

        def _send() -> None:
            conn = SmtpConnection(self.settings)
            try:
                conn.send(msg)
            finally:
                conn.close()

        await asyncio.to_thread(_send)

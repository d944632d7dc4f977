"""The local SMTP sink's mailbox (var/mail): find the link a mail sent to someone carries.

    python -m devtools.mailbox jordan@springfield.example   # the newest confirmation link (waits up to 30 s)
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from devtools.devstack import read_mail
from shared.infra.settings import CommonSettings

CONFIRM_LINK = re.compile(r"https?://\S+/portal/register/confirm\?token=[\w-]+")


def latest_link(email: str, mail_dir: Path | None = None, pattern: re.Pattern = CONFIRM_LINK) -> str | None:
    """The newest link matching `pattern` in a mail to `email` (bodies are decoded)."""
    mail_dir = mail_dir or CommonSettings().var_dir / "mail"
    if not mail_dir.exists():
        return None
    for msg in reversed(read_mail(mail_dir)):
        if str(msg["To"]).lower() == email.lower():
            body = msg.get_body(("plain", "html"))
            found = pattern.search(body.get_content() if body else "")
            if found:
                return found.group(0)
    return None


async def wait_for_link(email: str, timeout: float = 120, **kwargs) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        link = latest_link(email, **kwargs)
        if link:
            return link
        await asyncio.sleep(0.5)
    raise TimeoutError(f"no mail with a link for {email} within {timeout:g} s")


if __name__ == "__main__":
    try:
        print(asyncio.run(wait_for_link(sys.argv[1], timeout=30)))
    except TimeoutError as exc:
        sys.exit(f"{exc} (under var/mail; is `make run` up?)")

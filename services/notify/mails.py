"""Writing mail: render a kind in a recipient's language (Jinja2, plain text and HTML from
one template) and record it in the sent-once ledger, `pending`, in the caller's
transaction. The sender (`services/notify/sender.py`) delivers it afterwards.

Each kind is one template, `templates/mail/<kind>.j2` (blocks `subject` and `body`), laid out
twice: over `layout.txt` with the pieces of `_macros.txt` for the text part, over
`layout.html` with those of `_macros.html` for the HTML part. Its words are keyed strings,
`locales/<lang>.yaml`, read by the one Translator (`shared.i18n`); tier names come from the
catalog; dates and times are in the recipient's zone.

Secrets (a confirmation link carries a single-use token that creates an account) never
enter a stored or displayed copy: the caller names them (`secrets=`), the templates are
rendered with a placeholder in their place, and the values wait in the row's own
`secrets` column, which no API or console shows. The sender puts them into the message
it hands to the relay (`reveal`) and the row forgets them once the relay accepted it.
Operators read the mail with the placeholder shown as "[link withheld]" (`redact`).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import domain
from services.notify.domain import Kind, Recipient
from services.notify.models import Mail
from shared.catalog.texts import tier_name
from shared.contracts.text import strip_controls
from shared.i18n import Translator, language
from shared.infra.orm import insert_if_absent, new_id, utcnow

MAIL_TEMPLATES = Path(__file__).parent / "templates" / "mail"
MAIL_STRINGS = Path(__file__).parent / "locales"
# What a secret is rendered as in the stored copy (no character HTML escaping would change).
SECRET_MARK = "[[wwc-secret:{}]]"
SECRET_MARKS = re.compile(r"\[\[wwc-secret:([a-z_]{1,40})\]\]")
WITHHELD = "[link withheld]"


def seal(context: dict[str, Any], secrets: Iterable[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The context with each secret replaced by its mark, and the secrets by name."""
    sealed = {name: str(context[name]) for name in secrets if context.get(name)}
    return {**context, **{name: SECRET_MARK.format(name) for name in sealed}}, sealed


def reveal(text: str, secrets: dict[str, str] | None, *, html: bool = False) -> str:
    """The text the recipient gets: each mark replaced by its secret (escaped in HTML)."""
    values = secrets or {}

    def put(match: re.Match) -> str:
        value = values.get(match.group(1))
        if value is None:
            return WITHHELD
        return html_lib.escape(value, quote=True) if html else value

    return SECRET_MARKS.sub(put, text)


def redact(text: str | None) -> str | None:
    """The text staff read: a mark reads "[link withheld]"."""
    return None if text is None else SECRET_MARKS.sub(WITHHELD, text)


@cache
def _env(part: str) -> Environment:
    """The templates laid out as one part of a mail: `txt` or `html` (escaped)."""
    env = Environment(loader=FileSystemLoader(MAIL_TEMPLATES), undefined=StrictUndefined, autoescape=part == "html",
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(layout=f"layout.{part}", m=env.get_template(f"_macros.{part}").module)
    return env


def render(kind: Kind, lang: str, context: dict[str, Any], *, timezone: str = "UTC") -> tuple[str, str, str]:
    """(subject, text, html) of one mail in one language, times in `timezone`."""
    t = Translator(lang, (MAIL_STRINGS,))
    ctx = {
        **context,
        "lang": t.lang,
        "t": t,
        "when": lambda dt: domain.when(_aware(dt), timezone, t.lang),
        "day": lambda dt: domain.day_of(_aware(dt), timezone, t.lang),
        "tier_name": lambda tier: tier_name(tier, t.lang),
        "timezone": timezone,
    }
    template = f"{kind.value}.j2"
    text_t = _env("txt").get_template(template)
    subject = "".join(text_t.blocks["subject"](text_t.new_context(ctx))).strip()
    ctx["subject"] = subject
    text = text_t.render(ctx).strip() + "\n"
    html = _env("html").get_template(template).render(ctx)
    return strip_controls(" ".join(subject.split()))[:300], text, html


async def recent_to(session: AsyncSession, to: str, kinds: Iterable[Kind], *, now: datetime,
                    within: timedelta = timedelta(hours=1)) -> int:
    """How many mails of these kinds were recorded for `to` in the last `within`."""
    return int(await session.scalar(
        select(func.count()).select_from(Mail).where(Mail.to == to.lower(), Mail.kind.in_([k.value for k in kinds]),
                                                     Mail.created_at > now - within)) or 0)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value


async def queue(session: AsyncSession, *, cause: str, kind: Kind, recipients: Iterable[Recipient],
                context: dict[str, Any] | Callable[[Recipient], dict[str, Any]], city_id: str | None = None,
                submission_id: str | None = None,
                ics: Callable[[Recipient], str | None] | None = None, secrets: Iterable[str] = ()) -> int:
    """Record one mail per recipient for this cause (a second call for the same cause and
    recipient records nothing: events delivered twice, activities retried). Returns how
    many recipients the cause has mail for. `secrets`: the context's names whose values
    only the sent message may carry (see the module's note)."""
    secrets = tuple(secrets)
    count = 0
    now = utcnow()
    for person in recipients:
        if not person.email:
            continue
        ctx, sealed = seal(context(person) if callable(context) else context, secrets)
        subject, text, html = render(kind, person.language, {"name": person.name, **ctx}, timezone=person.timezone)
        to = person.email.lower()
        await insert_if_absent(
            session, Mail, id=new_id(), cause=cause, kind=kind.value, to=to, user_id=person.user_id,
            language=language(person.language), city_id=city_id, submission_id=submission_id,
            subject=subject, text=text, html=html, ics=ics(person) if ics else None, secrets=sealed or None,
            message_id=domain.message_id(cause, to), state=domain.MailState.PENDING.value, attempts=0,
            next_attempt_at=now, created_at=now)
        count += 1
    return count
